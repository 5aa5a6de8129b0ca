var map_source_001 = L.map(
"map_source_001",
{
center: [51.266, 19.326],
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
AtlasMap.basemap(map_source_001, "../../assets/basemap/");
L.control.fullscreen(
{
"position": "topleft",
"title": "Full Screen",
"titleCancel": "Exit Full Screen",
"forceSeparateButton": false,
}
).addTo(map_source_001);
AtlasMap.features(map_source_001, {"fit":[[50.25,18.9],[52.716,19.776]],"items":[{"c":"#2471a3","d":"","t":"l","tip":"Orbit 21950 on 2018-08-03: detected","w":4,"xy":[[50.45,19.45],[52.45,19.05]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 21950: 4.9 m/s from 204°","w":2.5,"xy":[[51.45,19.25],[51.6117,19.36532]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 21950: 4.9 m/s from 204°","w":2.5,"xy":[[51.55871,19.37414],[51.6117,19.36532],[51.58027,19.2963]]},{"c":"#2471a3","d":"","t":"l","tip":"Orbit 22183 on 2018-08-19: detected","w":4,"xy":[[50.4,19.58],[52.4,19.18]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 22183: 3.4 m/s from 207°","w":2.5,"xy":[[51.4,19.38],[51.5078,19.46639]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 22183: 3.4 m/s from 207°","w":2.5,"xy":[[51.47158,19.46976],[51.5078,19.46639],[51.48775,19.41793]]},{"c":"#7f8c8d","d":"6 6","t":"l","tip":"Orbit 22416 on 2018-08-31: not detected","w":4,"xy":[[50.566,19.626],[52.566,19.226]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 22416: 3.6 m/s from 304°","w":2.5,"xy":[[51.566,19.426],[51.49414,19.59942]]},{"c":"#1b2631","d":"","t":"l","tip":"Wind at orbit 22416: 3.6 m/s from 304°","w":2.5,"xy":[[51.49672,19.53681],[51.49414,19.59942],[51.52906,19.5715]]},{"c":"#c0392b","href":"detections/OCO-2-21950-2018080312031531/","lat":51.45,"link":"Detection on 2018-08-03","lon":19.25,"o":0.75,"r":7,"t":"c","tip":"Detection on 2018-08-03: 637 ± 250 kg/s"},{"c":"#c0392b","href":"detections/OCO-2-22183-2018081912041272/","lat":51.4,"link":"Detection on 2018-08-19","lon":19.38,"o":0.75,"r":7,"t":"c","tip":"Detection on 2018-08-19: 473 ± 190 kg/s"},{"c":"#5b3f8c","lat":51.266,"lon":19.326,"o":0.9,"r":10,"t":"c","tip":"Bełchatów — coal, 5,472 MW (POL) (38,400,000 t/yr)"}]}, "../../");
