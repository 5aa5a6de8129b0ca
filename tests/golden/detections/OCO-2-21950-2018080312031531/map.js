var map_detection_001 = L.map(
"map_detection_001",
{
center: [51.45, 19.25],
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
[[50.5788, 19.4242], [50.5994, 19.4201], [50.6156, 19.4169], [50.6276, 19.4145], [50.6312, 19.4138], [50.6793, 19.4041], [50.7369, 19.3926], [50.7413, 19.3917], [50.7699, 19.386], [50.7709, 19.3858], [50.8093, 19.3781], [50.8185, 19.3763], [50.891, 19.3618], [50.8915, 19.3617], [50.9033, 19.3593], [50.9636, 19.3473], [51.0426, 19.3315], [51.074, 19.3252], [51.0965, 19.3207], [51.1238, 19.3152], [51.1839, 19.3032], [51.1923, 19.3015], [51.2049, 19.299], [51.2115, 19.2977], [51.2253, 19.2949], [51.2441, 19.2912], [51.2604, 19.2879], [51.2674, 19.2865], [51.3075, 19.2785], [51.3219, 19.2756], [51.4197, 19.2561], [51.4583, 19.2483], [51.564, 19.2272], [51.5805, 19.2239], [51.5991, 19.2202], [51.7247, 19.1951], [51.7553, 19.1889], [51.7707, 19.1859], [51.8031, 19.1794], [51.8319, 19.1736], [51.8328, 19.1734], [51.8755, 19.1649], [51.8883, 19.1623], [51.9194, 19.1561], [52.0317, 19.1337], [52.0584, 19.1283], [52.0698, 19.126], [52.0731, 19.1254], [52.093, 19.1214], [52.115, 19.117], [52.1405, 19.1119], [52.1515, 19.1097], [52.1813, 19.1037], [52.1828, 19.1034], [52.195, 19.101], [52.2396, 19.0921], [52.2587, 19.0883], [52.2982, 19.0804], [52.3455, 19.0709], [52.3464, 19.0707]],
{"bubblingMouseEvents": true, "color": "#2471a3", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#2471a3", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 3}
).addTo(map_detection_001);
poly_line_004.bindTooltip("OCO-2 track, orbit 21950");
var poly_line_006 = L.polyline(
[[51.45, 19.25], [51.61169601149839, 19.365316429926313]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_006.bindTooltip("Wind: 4.9 m/s from 204\u00b0");
var poly_line_008 = L.polyline(
[[51.55871361839741, 19.374138136815674], [51.61169601149839, 19.365316429926313], [51.5802730865972, 19.296299546615415]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_008.bindTooltip("Wind: 4.9 m/s from 204\u00b0");
var circle_marker_010 = L.circleMarker(
[51.45, 19.25],
{"bubblingMouseEvents": true, "color": "#c0392b", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#c0392b", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 8, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_010.bindTooltip("Plume centre (51.450, 19.250)");
var circle_marker_012 = L.circleMarker(
[51.266, 19.326],
{"bubblingMouseEvents": true, "color": "#5b3f8c", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#5b3f8c", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 9, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_012.bindTooltip("Be\u0142chat\u00f3w (score 0.90)");
circle_marker_012.bindPopup("\u003ca href=\"../../sources/coco2-1001/\"\u003eBe\u0142chat\u00f3w\u003c/a\u003e");
map_detection_001.fitBounds(
[[50.4288, 18.930400000000002], [52.4482, 19.574199999999998]],
{}
);
