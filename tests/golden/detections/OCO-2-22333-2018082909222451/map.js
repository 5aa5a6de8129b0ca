var map_detection_001 = L.map(
"map_detection_001",
{
center: [10.1, 40.08],
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
[[9.2174, 40.2565], [9.221, 40.2558], [9.2961, 40.2408], [9.3, 40.24], [9.3153, 40.2369], [9.3185, 40.2363], [9.3244, 40.2351], [9.4018, 40.2196], [9.4025, 40.2195], [9.4256, 40.2149], [9.465, 40.207], [9.4775, 40.2045], [9.4894, 40.2021], [9.5115, 40.1977], [9.5477, 40.1905], [9.5597, 40.1881], [9.5815, 40.1837], [9.6615, 40.1677], [9.7041, 40.1592], [9.7659, 40.1468], [9.7972, 40.1406], [9.83, 40.134], [9.837, 40.1326], [9.9576, 40.1085], [9.9602, 40.108], [9.9621, 40.1076], [9.9927, 40.1015], [9.993, 40.1014], [9.9942, 40.1012], [10.0394, 40.0921], [10.06, 40.088], [10.0873, 40.0825], [10.1317, 40.0737], [10.1375, 40.0725], [10.2035, 40.0593], [10.2088, 40.0582], [10.2321, 40.0536], [10.2576, 40.0485], [10.2689, 40.0462], [10.2868, 40.0426], [10.3086, 40.0383], [10.3791, 40.0242], [10.3889, 40.0222], [10.4187, 40.0163], [10.5565, 39.9887], [10.5899, 39.982], [10.6109, 39.9778], [10.6248, 39.975], [10.6401, 39.972], [10.6511, 39.9698], [10.7418, 39.9516], [10.7481, 39.9504], [10.8087, 39.9383], [10.8134, 39.9373], [10.8265, 39.9347], [10.83, 39.934], [10.834, 39.9332], [10.8361, 39.9328], [10.911, 39.9178], [10.9248, 39.915]],
{"bubblingMouseEvents": true, "color": "#2471a3", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#2471a3", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 3}
).addTo(map_detection_001);
poly_line_004.bindTooltip("OCO-2 track, orbit 22333");
var poly_line_006 = L.polyline(
[[10.1, 40.08], [10.06406755300036, 40.207743177530425]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_006.bindTooltip("Wind: 3.6 m/s from 286\u00b0");
var poly_line_008 = L.polyline(
[[10.054581386992453, 40.168927500586534], [10.06406755300036, 40.207743177530425], [10.092310456342076, 40.179876915803426]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_008.bindTooltip("Wind: 3.6 m/s from 286\u00b0");
var circle_marker_010 = L.circleMarker(
[10.1, 40.08],
{"bubblingMouseEvents": true, "color": "#d68910", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#d68910", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 8, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_010.bindTooltip("Plume centre (10.100, 40.080)");
map_detection_001.fitBounds(
[[9.0674, 39.7828], [10.9861, 40.4065]],
{}
);
