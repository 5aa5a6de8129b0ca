var map_source_001 = L.map(
"map_source_001",
{
center: [-23.668, 27.61],
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
AtlasMap.features(map_source_001, {"fit":[[-24.7,27.23],[-22.4,27.93]],"items":[{"c":"#2471a3","d":"","t":"l","tip":"Orbit 22001 on 2018-08-07: detected","w":4,"xy":[[-24.55,27.78],[-22.55,27.38]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 22001: 3.6 m/s from 164°","w":2.5,"xy":[[-23.55,27.58],[-23.42424,27.5408]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 22001: 3.6 m/s from 164°","w":2.5,"xy":[[-23.45167,27.57161],[-23.42424,27.5408],[-23.46245,27.53045]]},{"c":"#c0392b","href":"detections/OCO-2-22001-2018080711300044/","lat":-23.55,"link":"Detection on 2018-08-07","lon":27.58,"o":0.75,"r":7,"t":"c","tip":"Detection on 2018-08-07: 178 ± 71 kg/s"},{"c":"#5b3f8c","lat":-23.668,"lon":27.61,"o":0.9,"r":10,"t":"c","tip":"\u003cscript\u003ealert(1)\u003c/script\u003e\"onmouseover= (12,000,000 t/yr)"}]}, "../../");
