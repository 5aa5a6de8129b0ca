var map_detection_001 = L.map(
"map_detection_001",
{
center: [-23.55, 27.58],
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
[[-24.435, 27.757], [-24.4107, 27.7521], [-24.3866, 27.7473], [-24.3561, 27.7412], [-24.2883, 27.7277], [-24.2701, 27.724], [-24.2588, 27.7218], [-24.2004, 27.7101], [-24.1968, 27.7094], [-24.1966, 27.7093], [-24.0817, 27.6863], [-24.0591, 27.6818], [-24.0498, 27.68], [-24.0293, 27.6759], [-23.9009, 27.6502], [-23.8657, 27.6431], [-23.8581, 27.6416], [-23.856, 27.6412], [-23.8558, 27.6412], [-23.8131, 27.6326], [-23.7533, 27.6207], [-23.7392, 27.6178], [-23.7155, 27.6131], [-23.684, 27.6068], [-23.6827, 27.6065], [-23.6807, 27.6061], [-23.6389, 27.5978], [-23.6354, 27.5971], [-23.6112, 27.5922], [-23.5415, 27.5783], [-23.5379, 27.5776], [-23.494, 27.5688], [-23.4519, 27.5604], [-23.3777, 27.5455], [-23.3666, 27.5433], [-23.3502, 27.54], [-23.31, 27.532], [-23.2843, 27.5269], [-23.2574, 27.5215], [-23.2436, 27.5187], [-23.2075, 27.5115], [-23.1538, 27.5008], [-23.1314, 27.4963], [-23.115, 27.493], [-23.0957, 27.4891], [-23.029, 27.4758], [-22.9924, 27.4685], [-22.9737, 27.4647], [-22.9618, 27.4624], [-22.9587, 27.4617], [-22.8842, 27.4468], [-22.8834, 27.4467], [-22.8717, 27.4443], [-22.8303, 27.4361], [-22.8243, 27.4349], [-22.8115, 27.4323], [-22.8075, 27.4315], [-22.7888, 27.4278], [-22.758, 27.4216], [-22.6819, 27.4064]],
{"bubblingMouseEvents": true, "color": "#2471a3", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#2471a3", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 3}
).addTo(map_detection_001);
poly_line_004.bindTooltip("OCO-2 track, orbit 22001");
var poly_line_006 = L.polyline(
[[-23.55, 27.58], [-23.424236435501257, 27.540802894738498]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_006.bindTooltip("Wind: 3.6 m/s from 164\u00b0");
var poly_line_008 = L.polyline(
[[-23.451670858785484, 27.571611819474036], [-23.424236435501257, 27.540802894738498], [-23.462450592885375, 27.53045485894946]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_detection_001);
poly_line_008.bindTooltip("Wind: 3.6 m/s from 164\u00b0");
var circle_marker_010 = L.circleMarker(
[-23.55, 27.58],
{"bubblingMouseEvents": true, "color": "#c0392b", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#c0392b", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 8, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_010.bindTooltip("Plume centre (-23.550, 27.580)");
var circle_marker_012 = L.circleMarker(
[-23.668, 27.61],
{"bubblingMouseEvents": true, "color": "#5b3f8c", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#5b3f8c", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 9, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_012.bindTooltip("\u0026lt;script\u0026gt;alert(1)\u0026lt;/script\u0026gt;\u0026#34;onmouseover= (score 0.70)");
circle_marker_012.bindPopup("\u003ca href=\"../../sources/coco2-1002/\"\u003e\u0026lt;script\u0026gt;alert(1)\u0026lt;/script\u0026gt;\u0026#34;onmouseover=\u003c/a\u003e");
var circle_marker_015 = L.circleMarker(
[-23.5, 27.9],
{"bubblingMouseEvents": true, "color": "#5b3f8c", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#5b3f8c", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 6, "stroke": true, "weight": 1.5}
).addTo(map_detection_001);
circle_marker_015.bindTooltip("Matimba (score 0.21)");
circle_marker_015.bindPopup("\u003ca href=\"../../sources/coco2-1003/\"\u003eMatimba\u003c/a\u003e");
map_detection_001.fitBounds(
[[-24.584999999999997, 27.277800000000003], [-22.6388, 28.049999999999997]],
{}
);
