var map_home_001 = L.map(
"map_home_001",
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
L.control.scale().addTo(map_home_001);
AtlasMap.basemap(map_home_001, "assets/basemap/");
L.control.fullscreen(
{
"position": "topleft",
"title": "Full Screen",
"titleCancel": "Exit Full Screen",
"forceSeparateButton": false,
}
).addTo(map_home_001);
var marker_cluster_004 = L.markerClusterGroup({
"chunkedLoading": true,
"maxClusterRadius": 50,
});
AtlasMap.points(marker_cluster_004, "assets/data/map-sources.json", "source", "", 20000);
marker_cluster_004.addTo(map_home_001);
var json_layer_005 = L.featureGroup();
AtlasMap.points(json_layer_005, "assets/data/detections.json", "detection", "", 0);
json_layer_005.addTo(map_home_001);
var json_layer_006 = L.featureGroup();
AtlasMap.points(json_layer_006, "assets/data/candidates.json", "candidate", "", 0);
json_layer_006.addTo(map_home_001);
let layer_control_007 = L.control.layers(
{ },
{"Inventory sources (size = emission)": marker_cluster_004,"Blind-scan anomalies (red: a source upwind, orange: unexplained)": json_layer_005,"Candidate new sources": json_layer_006, },
Object.assign({
"position": "topright",
"collapsed": true,
"autoZIndex": true,
}, {collapsed: AtlasMap.smallScreen()})
).addTo(map_home_001);
