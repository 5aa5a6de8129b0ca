var map_detection_001 = L.map(
"map_detection_001",
{
center: [35.8, 139.7],
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
[[34.9405, 139.8719], [34.9937, 139.8613], [35.0294, 139.8541], [35.0391, 139.8522], [35.0452, 139.851], [35.0733, 139.8453], [35.0783, 139.8443], [35.1321, 139.8336], [35.1826, 139.8235], [35.1999, 139.82], [35.2037, 139.8193], [35.262, 139.8076], [35.3058, 139.7988], [35.3324, 139.7935], [35.4011, 139.7798], [35.423, 139.7754], [35.4255, 139.7749], [35.4959, 139.7608], [35.4968, 139.7606], [35.5478, 139.7504], [35.5806, 139.7439], [35.5846, 139.7431], [35.6531, 139.7294], [35.6601, 139.728], [35.6887, 139.7223], [35.7581, 139.7084], [35.8048, 139.699], [35.8373, 139.6925], [35.8747, 139.6851], [35.881, 139.6838], [35.9437, 139.6713], [35.9961, 139.6608], [36.0041, 139.6592], [36.0647, 139.6471], [36.166, 139.6268], [36.18, 139.624], [36.1825, 139.6235], [36.2208, 139.6158], [36.2362, 139.6128], [36.2555, 139.6089], [36.3178, 139.5964], [36.339, 139.5922], [36.3451, 139.591], [36.3557, 139.5889], [36.3622, 139.5876], [36.38, 139.584], [36.3932, 139.5814], [36.4373, 139.5725], [36.4546, 139.5691], [36.4599, 139.568], [36.4928, 139.5614], [36.5114, 139.5577], [36.5375, 139.5525], [36.5853, 139.5429], [36.5906, 139.5419], [36.6021, 139.5396], [36.6283, 139.5343], [36.6923, 139.5215], [36.6947, 139.5211], [36.699, 139.5202]],
{"bubblingMouseEvents": true, "color": "#2471a3", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#2471a3", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 3}
).addTo(map_detection_001);
poly_line_004.bindTooltip("OCO-2 track, orbit 22050");
var poly_line_006 = L.polyline(
[[35.8, 139.7], [35.943729787998556, 139.83290858065058]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_006.bindTooltip("Wind: 5.0 m/s from 217\u00b0");
var poly_line_008 = L.polyline(
[[35.890046712181096, 139.8248011572309], [35.943729787998556, 139.83290858065058], [35.92238591448077, 139.77163772497065]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_008.bindTooltip("Wind: 5.0 m/s from 217\u00b0");
var circle_marker_010 = L.circleMarker(
[35.8, 139.7],
{"bubblingMouseEvents": true, "color": "#c0392b", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#c0392b", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 8, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_010.bindTooltip("Plume centre (35.800, 139.700)");
var circle_marker_012 = L.circleMarker(
[35.68, 139.77],
{"bubblingMouseEvents": true, "color": "#5b3f8c", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#5b3f8c", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 9, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_012.bindTooltip("Tokyo (score 0.60)");
circle_marker_012.bindPopup("\u003ca href=\"../../sources/city-tokyo-a4454f10/\"\u003eTokyo\u003c/a\u003e");
map_detection_001.fitBounds(
[[34.7905, 139.3715], [36.8423, 140.02190000000002]],
{}
);
