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
AtlasMap.basemap(map_source_001, "../../assets/basemap/countries.geojson");
L.control.fullscreen(
{
"position": "topleft",
"title": "Full Screen",
"titleCancel": "Exit Full Screen",
"forceSeparateButton": false,
}
).addTo(map_source_001);
var poly_line_004 = L.polyline(
[[-24.55, 27.779999999999998], [-22.55, 27.38]],
{"bubblingMouseEvents": true, "color": "#2471a3", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#2471a3", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 4}
).addTo(map_source_001);
poly_line_004.bindTooltip("Orbit 22001 on 2018-08-07: detected");
var poly_line_006 = L.polyline(
[[-23.55, 27.58], [-23.424236435501257, 27.540802894738498]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_006.bindTooltip("Wind at orbit 22001: 3.6 m/s from 164\u00b0");
var poly_line_008 = L.polyline(
[[-23.451670858785484, 27.571611819474036], [-23.424236435501257, 27.540802894738498], [-23.462450592885375, 27.53045485894946]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_008.bindTooltip("Wind at orbit 22001: 3.6 m/s from 164\u00b0");
var circle_marker_010 = L.circleMarker(
[-23.55, 27.58],
{"bubblingMouseEvents": true, "color": "#c0392b", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#c0392b", "fillOpacity": 0.7, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 7, "stroke": true, "weight": 1.5}
).addTo(map_source_001);
circle_marker_010.bindTooltip("Detection OCO-2-22001-2018080711300044: 178 \u00b1 71 kg/s");
circle_marker_010.bindPopup("\u003ca href=\"../../detections/OCO-2-22001-2018080711300044/\"\u003eDetection on 2018-08-07\u003c/a\u003e");
var circle_marker_013 = L.circleMarker(
[-23.668, 27.61],
{"bubblingMouseEvents": true, "color": "#5b3f8c", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#5b3f8c", "fillOpacity": 0.9, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 10, "stroke": true, "weight": 1.5}
).addTo(map_source_001);
circle_marker_013.bindTooltip("\u0026lt;script\u0026gt;alert(1)\u0026lt;/script\u0026gt;\u0026#34;onmouseover= (12,000,000 t/yr)");
map_source_001.fitBounds(
[[-24.75, 27.18], [-22.35, 27.979999999999997]],
{}
);
