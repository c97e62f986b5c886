"use strict";
/* /screen: paste the lead text, draw, type or upload a location; the decision appears at once;
   save it as a lead. */
(function () {
  var cfg = GS.pageData();
  var map = L.map("screen-map", { center: [44.5, 113.5], zoom: 5 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  if (cfg.tile_url) {
    L.tileLayer(cfg.tile_url, { subdomains: "01234567", maxZoom: 18, attribution: cfg.attribution || "" }).addTo(map);
    if (cfg.label_url) { L.tileLayer(cfg.label_url, { subdomains: "01234567", maxZoom: 18 }).addTo(map); }
  }
  function bindName(layer, text) {
    var span = document.createElement("span"); span.textContent = text; layer.bindTooltip(span, { sticky: true });
  }
  GS.send("/web/boundaries.json")
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (gj) {
      if (!gj) { return; }
      L.geoJSON(gj, {
        style: { color: "#6b6b6b", weight: 1.5, fill: false },
        interactive: false
      }).addTo(map).bringToBack();
    });

  var drawn = new L.FeatureGroup().addTo(map);
  var drawControl = new L.Control.Draw({
    position: "topleft",
    draw: {
      polygon: { allowIntersection: false, showArea: false, shapeOptions: { color: "#d7191c" } },
      polyline: { shapeOptions: { color: "#d7191c" } },
      marker: true, rectangle: false, circle: false, circlemarker: false
    },
    edit: { featureGroup: drawn, remove: true }
  });
  map.addControl(drawControl);
  var drawCrs = cfg.frame === "GCJ02" ? "GCJ02" : "EPSG:4490";

  var result = document.getElementById("result");
  var saveForm = document.getElementById("save-form");
  var lastRequest = null;

  function facts() {
    var form = document.getElementById("facts-form");
    var fd = new FormData(form), out = {};
    ["case_type", "received_on", "occurred_on"].forEach(function (k) { if (fd.get(k)) { out[k] = fd.get(k); } });
    if (fd.get("damage_amount_yuan")) { out.damage_amount_yuan = Number(fd.get("damage_amount_yuan")); }
    if (fd.get("no_obvious_impact")) { out.no_obvious_impact = true; }
    if (fd.get("major_impact")) { out.major_impact = true; }
    return out;
  }

  function showError(message) {
    result.replaceChildren();
    var p = document.createElement("p"); p.className = "problem"; p.setAttribute("role", "alert");
    p.textContent = message; result.appendChild(p);
    if (saveForm) { saveForm.hidden = true; }
  }

  function screen(geometry, crs) { return screenLocation({ geometry: geometry, crs: crs }); }

  async function screenLocation(location) {
    var body = Object.assign({ location: location }, facts());
    result.replaceChildren();
    var p = document.createElement("p"); p.className = "empty"; p.textContent = "正在筛查……"; result.appendChild(p);
    try {
      var decision = await GS.call("POST", "/api/v1/screen", body);
      var fragment = await GS.html("/web/explain", decision);
      result.innerHTML = fragment;  /* server-rendered, escaped by the template */
      lastRequest = body;
      if (saveForm) { saveForm.hidden = false; }
    } catch (e) { showError(e.message); }
  }

  map.on(L.Draw.Event.CREATED, function (ev) {
    drawn.clearLayers();
    drawn.addLayer(ev.layer);
    screen(ev.layer.toGeoJSON().geometry, drawCrs);
  });
  map.on(L.Draw.Event.EDITED, function () {
    var layers = drawn.getLayers();
    if (layers.length) { screen(layers[0].toGeoJSON().geometry, drawCrs); }
  });

  function parseCoords(text) {
    var pts = [];
    text.split(/\n|;/).forEach(function (line) {
      var t = line.trim(); if (!t) { return; }
      var nums = t.split(/[\s,，]+/).filter(Boolean).map(Number);
      if (nums.length !== 2 || nums.some(isNaN)) { throw new Error("无法识别的坐标行：“" + t + "”，应为两个数字，用逗号或空格分隔"); }
      pts.push(nums);
    });
    return pts;
  }

  document.getElementById("coords-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var crs = document.getElementById("crs").value;
    var shape = document.getElementById("shape").value;
    var pts;
    try { pts = parseCoords(document.getElementById("coords").value); } catch (e) { showError(e.message); return; }
    var geometry;
    if (shape === "Point") {
      if (pts.length !== 1) { showError("点需要且只需要一行坐标"); return; }
      geometry = { type: "Point", coordinates: pts[0] };
    } else if (shape === "LineString") {
      if (pts.length < 2) { showError("线至少需要两个点"); return; }
      geometry = { type: "LineString", coordinates: pts };
    } else {
      if (pts.length < 3) { showError("面至少需要三个点"); return; }
      var first = pts[0], last = pts[pts.length - 1];
      if (first[0] !== last[0] || first[1] !== last[1]) { pts.push(first); }
      geometry = { type: "Polygon", coordinates: [pts] };
    }
    drawn.clearLayers();
    /* Shown on the map only when typed in the map's own frame; otherwise the service converts. */
    var sameFrame = cfg.frame === "GCJ02" ? crs === "GCJ02" : (crs === "EPSG:4490" || crs === "EPSG:4326");
    if (sameFrame) {
      var layer = L.geoJSON(geometry, { style: { color: "#d7191c" } });
      layer.eachLayer(function (l) { drawn.addLayer(l); });
      map.fitBounds(layer.getBounds(), { maxZoom: 12 });
    }
    screen(geometry, crs);
  });

  document.getElementById("file-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = document.getElementById("file").files[0];
    if (!file) { showError("请选择文件"); return; }
    if (file.size > 5 * 1024 * 1024) { showError("文件超过 5 MB；大文件请作为图层上传或使用批量筛查"); return; }
    var reader = new FileReader();
    reader.onload = function () {
      var gj;
      try { gj = JSON.parse(reader.result); } catch (e) { showError("文件不是有效的 GeoJSON：" + e.message); return; }
      var geoms = gj.type === "FeatureCollection" ? gj.features.map(function (f) { return f.geometry; })
        : gj.type === "Feature" ? [gj.geometry] : [gj];
      geoms = geoms.filter(Boolean);
      if (!geoms.length) { showError("文件中没有几何图形"); return; }
      var geometry = geoms.length === 1 ? geoms[0] : { type: "GeometryCollection", geometries: geoms };
      screen(geometry, document.getElementById("file-crs").value);
    };
    reader.readAsText(file);
  });

  /* --- lead text: candidates on the map, the words they came from highlighted ------------ */
  var textLayer = new L.FeatureGroup().addTo(map);
  var candidateBox = document.getElementById("text-candidates");
  var METHODS = { coordinates_in_text: "文字中的坐标", address: "地址" };
  var LEVELS = { league: "盟市", county: "旗县", township: "乡镇", village: "村" };

  function highlighted(text, span) {
    var p = document.createElement("p"); p.className = "lead-text";
    var mark = document.createElement("mark");
    mark.textContent = text.slice(span[0], span[1]);
    p.append(text.slice(0, span[0]), mark, text.slice(span[1]));
    return p;
  }

  function textLocation(answer, index, text, crs) {
    var c = answer.candidates[index];
    if (index === 0 && !answer.needs_verification) {
      var loc = { text: text }; if (crs) { loc.crs = crs; } return loc;
    }
    if (c.method === "coordinates_in_text") { return { geometry: c.geometry, crs: "EPSG:4490", text: text }; }
    /* an address reading the officer picked: its county (township/village codes begin with it) */
    return { admin_name: c.unit.code.slice(0, 6) };
  }

  function showCandidates(answer, text, crs) {
    textLayer.clearLayers();
    candidateBox.replaceChildren();
    if (answer.needs_verification) {
      var note = document.createElement("p"); note.className = "problem";
      note.textContent = "文字有多种读法，均位于自治区内：请核实后选定一种。";
      candidateBox.appendChild(note);
    }
    answer.candidates.forEach(function (c, i) {
      var item = document.createElement("div"); item.className = "candidate"; item.dataset.index = String(i);
      item.appendChild(highlighted(text, c.span));
      var meta = document.createElement("p"); meta.className = "candidate-meta";
      var unit = c.unit ? (LEVELS[c.unit.level] || c.unit.level) + "：" + c.unit.name + "（" + c.unit.code + "）" : "自治区外";
      meta.textContent = (i + 1) + ". " + (METHODS[c.method] || c.method) + " · " + unit +
        (c.precision_m != null ? " · 精度约 " + c.precision_m + " 米" : "") + (c.label ? " · " + c.label : "");
      item.appendChild(meta);
      if (c.unresolved_parts && c.unresolved_parts.length) {
        var parts = document.createElement("p"); parts.className = "hint";
        parts.textContent = "未能细化：" + c.unresolved_parts.join("、"); item.appendChild(parts);
      }
      var list = document.createElement("ul"); list.className = "hint";
      (c.warnings || []).concat(i === 0 ? answer.warnings || [] : []).forEach(function (w) {
        var li = document.createElement("li"); li.textContent = w.message; list.appendChild(li);
      });
      if (list.children.length) { item.appendChild(list); }
      var pick = document.createElement("button"); pick.type = "button"; pick.className = "pick";
      pick.textContent = "选用并筛查";
      pick.addEventListener("click", function () { screenLocation(textLocation(answer, i, text, crs)); });
      item.appendChild(pick);
      candidateBox.appendChild(item);
      if (c.display_geometry) {
        var layer = L.geoJSON(c.display_geometry, {
          style: { color: i === 0 ? "#2c7bb6" : "#fdae61", weight: 2, fillOpacity: 0.1 },
          pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 7, color: "#2c7bb6" }); }
        });
        bindName(layer, c.matched);
        textLayer.addLayer(layer);
      }
    });
    if (textLayer.getLayers().length) { map.fitBounds(textLayer.getBounds(), { maxZoom: 12 }); }
  }

  document.getElementById("text-form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var text = document.getElementById("lead-text").value.trim();  /* as the service reads it */
    var crs = document.getElementById("text-crs").value;
    var body = { text: text }; if (crs) { body.crs = crs; }
    candidateBox.replaceChildren();
    try {
      showCandidates(await GS.call("POST", "/web/geocode", body), text, crs);
    } catch (e) {
      textLayer.clearLayers();
      var p = document.createElement("p"); p.className = "problem"; p.setAttribute("role", "alert");
      p.textContent = e.message; candidateBox.appendChild(p);
    }
  });

  if (saveForm) {
    saveForm.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var err = document.getElementById("save-error");
      GS.show(err, "");
      if (!lastRequest) { GS.show(err, "请先完成筛查"); return; }
      var fd = new FormData(saveForm);
      var body = Object.assign({}, lastRequest, { title: fd.get("title"), description: fd.get("description") || null });
      try {
        var lead = await GS.call("POST", "/api/v1/leads", body);
        window.location.href = "/leads/" + encodeURIComponent(lead.id);
      } catch (e) { GS.show(err, e.message); }
    });
  }
  window.GS_SCREEN = { map: map, screen: screen, screenLocation: screenLocation };
})();
