var map_detection_001 = L.map(
"map_detection_001",
{
center: [10.0, 40.0],
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
L.control.scale().addTo(map_detection_001);
AtlasMap.basemap(map_detection_001, "../../assets/basemap/countries.geojson");
L.control.fullscreen(
{
"position": "topleft",
"title": "Full Screen",
"titleCancel": "Exit Full Screen",
"forceSeparateButton": false,
}
).addTo(map_detection_001);
var poly_line_004 = L.polyline(
[[9.0993, 40.1801], [9.1657, 40.1669], [9.1671, 40.1666], [9.2129, 40.1574], [9.2139, 40.1572], [9.2494, 40.1501], [9.2707, 40.1459], [9.2739, 40.1452], [9.3326, 40.1335], [9.3331, 40.1334], [9.3657, 40.1269], [9.3716, 40.1257], [9.4053, 40.1189], [9.4339, 40.1132], [9.5392, 40.0922], [9.5461, 40.0908], [9.5464, 40.0907], [9.598, 40.0804], [9.599, 40.0802], [9.6095, 40.0781], [9.6409, 40.0718], [9.6418, 40.0716], [9.6505, 40.0699], [9.6846, 40.0631], [9.7043, 40.0591], [9.7597, 40.0481], [9.8105, 40.0379], [9.816, 40.0368], [9.8462, 40.0308], [9.8509, 40.0298], [9.9388, 40.0122], [9.9678, 40.0064], [9.9683, 40.0063], [9.987, 40.0026], [10.0062, 39.9988], [10.0168, 39.9966], [10.0174, 39.9965], [10.0185, 39.9963], [10.0315, 39.9937], [10.1525, 39.9695], [10.2402, 39.952], [10.2557, 39.9489], [10.262, 39.9476], [10.344, 39.9312], [10.3531, 39.9294], [10.366, 39.9268], [10.3845, 39.9231], [10.3982, 39.9204], [10.3994, 39.9201], [10.4342, 39.9132], [10.509, 39.8982], [10.5405, 39.8919], [10.555, 39.889], [10.5696, 39.8861], [10.7482, 39.8504], [10.7519, 39.8496], [10.7727, 39.8455], [10.7846, 39.8431], [10.7863, 39.8427], [10.7972, 39.8406]],
{"bubblingMouseEvents": true, "color": "#2471a3", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#2471a3", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 3}
).addTo(map_detection_001);
poly_line_004.bindTooltip("OCO-2 track, orbit 22100");
var poly_line_006 = L.polyline(
[[10.0, 40.0], [10.03593244699964, 40.14594705165444]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_006.bindTooltip("Wind: 4.1 m/s from 256\u00b0");
var poly_line_008 = L.polyline(
[[10.00499461013295, 40.11332788560967], [10.03593244699964, 40.14594705165444], [10.04811354653252, 40.10238185673559]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_008.bindTooltip("Wind: 4.1 m/s from 256\u00b0");
var circle_marker_010 = L.circleMarker(
[10.0, 40.0],
{"bubblingMouseEvents": true, "color": "#d68910", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#d68910", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 8, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_010.bindTooltip("Plume centre (10.000, 40.000)");
map_detection_001.fitBounds(
[[8.9493, 39.6931], [10.9346, 40.3301]],
{}
);
