"use strict";
/* Shared helpers: JSON calls to the API with the session cookie, Chinese problem messages.
   Every call goes through send(), which adds the session's CSRF token (the server refuses a
   cookie-authenticated change without it). */
window.GS = (function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function send(url, opts) {
    opts = opts || {};
    opts.credentials = "same-origin";
    var method = (opts.method || "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") {
      opts.headers = opts.headers || {};
      opts.headers["X-CSRF-Token"] = csrfToken();
    }
    return fetch(url, opts);
  }
  function problemText(body, status) {
    if (body && typeof body === "object") {
      var parts = [body.detail || body.title || ("请求失败（" + status + "）")];
      (body.errors || []).forEach(function (e) { parts.push((e.field ? e.field + "：" : "") + e.message); });
      return parts.join("\n");
    }
    return "请求失败（" + status + "）";
  }
  async function call(method, url, data, isForm) {
    var opts = { method: method, headers: { "Accept": "application/json" } };
    if (data !== undefined) {
      if (isForm) { opts.body = data; } else {
        opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(data);
      }
    }
    var resp = await send(url, opts);
    var text = await resp.text();
    var body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = text; }
    if (!resp.ok) { var err = new Error(problemText(body, resp.status)); err.status = resp.status; err.body = body; throw err; }
    return body;
  }
  async function html(url, data) {
    var resp = await send(url, { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
    if (!resp.ok) { throw new Error("请求失败（" + resp.status + "）"); }
    return resp.text();
  }
  function show(el, text) { el.textContent = text; el.hidden = !text; }
  function pageData() {
    var el = document.getElementById("page-data");
    return el ? JSON.parse(el.textContent) : {};
  }
  return { call: call, html: html, send: send, show: show, pageData: pageData };
})();
