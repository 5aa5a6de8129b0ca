var map_source_001 = L.map(
"map_source_001",
{
center: [-23.5, 27.9],
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
[[-24.2, 28.2], [-22.2, 27.8]],
{"bubblingMouseEvents": true, "color": "#7f8c8d", "dashArray": "6 6", "dashOffset": null, "fill": false, "fillColor": "#7f8c8d", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.8, "smoothFactor": 1.0, "stroke": true, "weight": 4}
).addTo(map_source_001);
poly_line_004.bindTooltip("Orbit 22001 on 2018-08-07: not detected");
var poly_line_006 = L.polyline(
[[-23.2, 28.0], [-23.074236435501255, 27.96090625018427]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_006.bindTooltip("Wind at orbit 22001: 3.6 m/s from 164\u00b0");
var poly_line_008 = L.polyline(
[[-23.101670858785482, 27.991633937539433], [-23.074236435501255, 27.96090625018427], [-23.112450592885374, 27.95058550023292]],
{"bubblingMouseEvents": true, "color": "#1b2631", "dashArray": null, "dashOffset": null, "fill": false, "fillColor": "#1b2631", "fillOpacity": 0.2, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "noClip": false, "opacity": 0.9, "smoothFactor": 1.0, "stroke": true, "weight": 2.5}
).addTo(map_source_001);
poly_line_008.bindTooltip("Wind at orbit 22001: 3.6 m/s from 164\u00b0");
var circle_marker_010 = L.circleMarker(
[-23.5, 27.9],
{"bubblingMouseEvents": true, "color": "#5b3f8c", "dashArray": null, "dashOffset": null, "fill": true, "fillColor": "#5b3f8c", "fillOpacity": 0.9, "fillRule": "evenodd", "lineCap": "round", "lineJoin": "round", "opacity": 1.0, "radius": 10, "stroke": true, "weight": 1.5}
).addTo(map_source_001);
circle_marker_010.bindTooltip("Matimba (20,000,000 t/yr)");
map_source_001.fitBounds(
[[-24.4, 27.6], [-22.0, 28.4]],
{}
);
