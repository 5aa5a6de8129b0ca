var map_candidates_001 = L.map(
"map_candidates_001",
{
center: [20.0, 0.0],
crs: L.CRS.EPSG3857,
...{
"zoom": 2,
"zoomControl": true,
"preferCanvas": true,
"worldCopyJump": true,
"minZoom": 1,
"maxZoom": 14,
}
}
);
L.control.scale().addTo(map_candidates_001);
AtlasMap.basemap(map_candidates_001, "../assets/basemap/");
L.control.fullscreen(
{
"position": "topleft",
"title": "Full Screen",
"titleCancel": "Exit Full Screen",
"forceSeparateButton": false,
}
).addTo(map_candidates_001);
AtlasMap.features(map_candidates_001, {"fit":[[9.0,39.0],[11.1,41.08]],"items":[{"c":"#d68910","href":"detections/OCO-2-22100-2018081309212213/","lat":10.0,"link":"Detection on 2018-08-13","lon":40.0,"o":0.75,"r":5,"t":"c","tip":"Detection on 2018-08-13"},{"c":"#d68910","href":"detections/OCO-2-22333-2018082909222451/","lat":10.1,"link":"Detection on 2018-08-29","lon":40.08,"o":0.75,"r":5,"t":"c","tip":"Detection on 2018-08-29"},{"c":"#117a65","href":"candidates/#cand-0001","lat":10.05,"link":"Candidate cand-0001","lon":40.04,"o":0.35,"r":10,"t":"c","tip":"Candidate cand-0001: 2 detections, 2 orbits"}]}, "../");
