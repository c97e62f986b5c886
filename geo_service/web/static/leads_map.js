"use strict";
/* The leads map (case list page and /map): every filtered lead, clustered, coloured by the
   urgency of its next deadline; red line / nature reserve layers toggleable; click → case page.
   Data arrive as compact GeoJSON from /web/leads.geojson (the list's own filters). Titles are set
   as text, never as HTML. */
(function () {
  var el = document.getElementById("leads-map");
  if (!el || !window.L) { return; }
  var COLORS = { overdue: "#c00000", urgent: "#e66101", soon: "#d9a400", normal: "#2c7fb8", none: "#7a7a7a" };
  var RANK = { overdue: 0, urgent: 1, soon: 2, normal: 3, none: 4 };
  var FOOTPRINT_ZOOM = 11;
  var started = performance.now();
  var map = L.map(el, { center: [44.5, 113.5], zoom: 4, minZoom: 3, maxZoom: 18, preferCanvas: true });
  map.attributionControl.setPrefix(false);
  L.control.scale({ metric: true, imperial: false }).addTo(map);

  function worst(markers) {
    var best = "none";
    for (var i = 0; i < markers.length; i++) {
      var u = markers[i].options.urgency;
      if (RANK[u] < RANK[best]) { best = u; if (u === "overdue") { break; } }
    }
    return best;
  }
  var whenLoaded = null;
  var clusters = L.markerClusterGroup({
    chunkedLoading: true, maxClusterRadius: 50, showCoverageOnHover: false,
    chunkProgress: function (processed, total) {
      if (processed >= total && whenLoaded) { var f = whenLoaded; whenLoaded = null; f(); }
    },
    iconCreateFunction: function (cluster) {
      var n = cluster.getChildCount();
      var size = n < 100 ? 34 : n < 1000 ? 42 : 50;
      return L.divIcon({ html: "<span>" + String(Number(n)) + "</span>",
        className: "gs-cluster gs-u-" + worst(cluster.getAllChildMarkers()), iconSize: L.point(size, size) });
    }
  });
  var footprints = L.layerGroup();
  var redLine = L.layerGroup(), reserves = L.layerGroup();
  map.addLayer(clusters);
  L.control.layers(null, { "案件线索": clusters, "线索范围（放大后显示）": footprints,
    "生态保护红线": redLine, "自然保护地": reserves }, { collapsed: false }).addTo(map);

  function open(id) { window.location.href = "/leads/" + encodeURIComponent(id); }
  function tip(p) {
    return function () { var s = document.createElement("span"); s.textContent = "#" + p.id + " " + p.t; return s; };
  }
  function showFootprints() {
    if (map.getZoom() >= FOOTPRINT_ZOOM) { if (!map.hasLayer(footprints)) { map.addLayer(footprints); } }
    else if (map.hasLayer(footprints)) { map.removeLayer(footprints); }
  }
  map.on("zoomend", showFootprints);

  function done(count) {
    el.dataset.count = String(count);
    el.dataset.ms = String(Math.round(performance.now() - started));
    el.dataset.ready = "1";
    var info = document.getElementById("leads-map-info");
    if (info) { info.textContent = "地图上共 " + count + " 条线索（有几何位置的）。"; }
  }

  fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (r) { if (!r.ok) { throw new Error("线索地图数据加载失败（" + r.status + "）"); } return r.json(); })
    .then(function (gj) {
      var markers = [], shapes = [];
      gj.features.forEach(function (f) {
        var p = f.properties, c = f.geometry.coordinates, color = COLORS[p.u] || COLORS.none;
        var m = L.circleMarker([c[1], c[0]], { radius: 6, color: "#ffffff", weight: 1, fillColor: color,
          fillOpacity: 0.95, urgency: p.u });
        m.bindTooltip(tip(p));
        m.on("click", function () { open(p.id); });
        markers.push(m);
        if (p.f) { shapes.push({ type: "Feature", geometry: p.f, properties: { id: p.id, u: p.u, t: p.t } }); }
      });
      if (shapes.length) {
        L.geoJSON({ type: "FeatureCollection", features: shapes }, {
          style: function (f) { var c = COLORS[f.properties.u] || COLORS.none; return { color: c, weight: 2, fillColor: c, fillOpacity: 0.25 }; },
          onEachFeature: function (f, l) { l.bindTooltip(tip(f.properties)); l.on("click", function () { open(f.properties.id); }); }
        }).addTo(footprints);
      }
      if (markers.length) {
        map.fitBounds(L.latLngBounds(markers.map(function (m) { return m.getLatLng(); })),
          { maxZoom: 12, padding: [20, 20] });
      }
      whenLoaded = function () { showFootprints(); done(markers.length); };
      clusters.addLayers(markers);
      if (!markers.length && whenLoaded) { whenLoaded(); }
    })
    .catch(function (err) {
      var info = document.getElementById("leads-map-info");
      if (info) { info.textContent = String(err.message || err); info.className = "error"; }
      el.dataset.ready = "error";
    });

  /* League boundaries for orientation (no base map is needed). */
  fetch("/web/boundaries.json", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { features: [] }; })
    .then(function (gj) {
      L.geoJSON(gj, { style: { color: "#8a8a8a", weight: 1, fill: false }, interactive: false }).addTo(map).bringToBack();
    });
  fetch(el.dataset.sensitive, { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { features: [] }; })
    .then(function (gj) {
      var style = { red_line: { color: "#c00000", weight: 1.2, fillColor: "#ff6b6b", fillOpacity: 0.2 },
        nature_reserve: { color: "#1a7f3c", weight: 1.2, fillColor: "#41ab5d", fillOpacity: 0.2 } };
      gj.features.forEach(function (f) {
        var layer = L.geoJSON(f, { style: style[f.properties.kind], interactive: false });
        (f.properties.kind === "red_line" ? redLine : reserves).addLayer(layer);
      });
    });
})();
