var map_source_001 = L.map(
"map_source_001",
{
center: [-23.5, 27.9],
crs: L.CRS.EPSG3857,
...{
"zoom": 8,
"zoomControl": true,
"preferCanvas": true,
"worldCopyJump": true,
"minZoom": 1,
"maxZoom": 14,
}
}
);
L.control.scale().addTo(map_source_001);
AtlasMap.basemap(map_source_001, "../../assets/basemap/");
L.control.fullscreen(
{
"position": "topleft",
"title": "Full Screen",
"titleCancel": "Exit Full Screen",
"forceSeparateButton": false,
}
).addTo(map_source_001);
AtlasMap.features(map_source_001, {"fit":[[-24.35,27.65],[-22.05,28.35]],"items":[{"c":"#7f8c8d","d":"6 6","t":"l","tip":"Orbit 22001 on 2018-08-07: not detected","w":4,"xy":[[-24.2,28.2],[-22.2,27.8]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 22001: 3.6 m/s from 164°","w":2.5,"xy":[[-23.2,28.0],[-23.07424,27.96091]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 22001: 3.6 m/s from 164°","w":2.5,"xy":[[-23.10167,27.99163],[-23.07424,27.96091],[-23.11245,27.95059]]},{"c":"#5b3f8c","lat":-23.5,"lon":27.9,"o":0.9,"r":10,"t":"c","tip":"Matimba (20,000,000 t/yr)"}]}, "../../");
