var map_detection_001 = L.map(
"map_detection_001",
{
center: [51.4, 19.38],
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
[[50.5304, 19.5539], [50.544, 19.5512], [50.5609, 19.5478], [50.5768, 19.5446], [50.5847, 19.5431], [50.6858, 19.5228], [50.7125, 19.5175], [50.7532, 19.5094], [50.7594, 19.5081], [50.7672, 19.5066], [50.7694, 19.5061], [50.8127, 19.4975], [50.8629, 19.4874], [50.8817, 19.4837], [50.8961, 19.4808], [50.8989, 19.4802], [50.9267, 19.4747], [50.9879, 19.4624], [50.9898, 19.462], [50.9913, 19.4617], [51.0019, 19.4596], [51.0049, 19.459], [51.0396, 19.4521], [51.0723, 19.4455], [51.1038, 19.4392], [51.129, 19.4342], [51.1421, 19.4316], [51.1671, 19.4266], [51.3003, 19.3999], [51.305, 19.399], [51.5071, 19.3586], [51.5202, 19.356], [51.5924, 19.3415], [51.62, 19.336], [51.6296, 19.3341], [51.6305, 19.3339], [51.64, 19.332], [51.7203, 19.3159], [51.724, 19.3152], [51.7318, 19.3136], [51.739, 19.3122], [51.7551, 19.309], [51.8002, 19.3], [51.8257, 19.2949], [51.8811, 19.2838], [51.9093, 19.2781], [51.9368, 19.2726], [51.9597, 19.2681], [51.9927, 19.2615], [51.9989, 19.2602], [52.0572, 19.2486], [52.0888, 19.2422], [52.1078, 19.2384], [52.1407, 19.2319], [52.1436, 19.2313], [52.1482, 19.2304], [52.1722, 19.2256], [52.1726, 19.2255], [52.217, 19.2166], [52.2706, 19.2059]],
{"bubblingMouseEvents": true, "color": "#2471a3", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#2471a3", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 3}
).addTo(map_detection_001);
poly_line_004.bindTooltip("OCO-2 track, orbit 22183");
var poly_line_006 = L.polyline(
[[51.4, 19.38], [51.50779734099892, 19.466392744343214]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_006.bindTooltip("Wind: 3.4 m/s from 207\u00b0");
var poly_line_008 = L.polyline(
[[51.47157743442328, 19.4697620613726], [51.50779734099892, 19.466392744343214], [51.48774703557312, 19.41792641476667]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_008.bindTooltip("Wind: 3.4 m/s from 207\u00b0");
var circle_marker_010 = L.circleMarker(
[51.4, 19.38],
{"bubblingMouseEvents": true, "color": "#c0392b", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#c0392b", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 8, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_010.bindTooltip("Plume centre (51.400, 19.380)");
var circle_marker_012 = L.circleMarker(
[51.266, 19.326],
{"bubblingMouseEvents": true, "color": "#5b3f8c", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#5b3f8c", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 9, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_012.bindTooltip("Be\u0142chat\u00f3w (score 0.80)");
circle_marker_012.bindPopup("\u003ca href=\"../../sources/coco2-1001/\"\u003eBe\u0142chat\u00f3w\u003c/a\u003e");
map_detection_001.fitBounds(
[[50.3804, 19.0755], [52.3226, 19.703899999999997]],
{}
);
