// deltarule: step through a worked solution. Every number comes from the embedded JSON
// (computed and formatted by deltarule); this script only shows and hides them, and shows
// every text with textContent (never as markup).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("deltarule-data").textContent);
  var lines = data.lines, updates = data.updates;
  var SVGNS = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };

  function index(root) {
    var m = {name: Object.create(null), unit: Object.create(null), edge: Object.create(null),
             orig: new Map(), badges: Object.create(null), root: root};
    each(root.querySelectorAll("[data-name]"), function (el) {
      var k = el.getAttribute("data-name");
      (m.name[k] = m.name[k] || []).push(el);
      m.orig.set(el, el.textContent);
    });
    each(root.querySelectorAll("[data-unit]"), function (el) { m.unit[el.getAttribute("data-unit")] = el; });
    each(root.querySelectorAll("[data-edge]"), function (el) { m.edge[el.getAttribute("data-edge")] = el; });
    return m;
  }

  var figures, maps, firstOf, cur = -1;
  function indexAll() {
    figures = Array.prototype.slice.call(document.querySelectorAll("figure.update"));
    maps = Object.create(null);  // "update:example" -> the index of that figure
    figures.forEach(function (f) { maps[f.getAttribute("data-update") + ":" + f.getAttribute("data-example")] = index(f); });
    firstOf = [];
    lines.forEach(function (ln, k) { if (firstOf[ln.u] === undefined) { firstOf[ln.u] = k; } });
  }
  indexAll();

  function setText(m, name, text) {
    (m.name[name] || []).forEach(function (el) { el.textContent = text; });
  }

  function badge(m, unit, text) {
    var b = m.badges[unit];
    var c = m.unit[unit];
    if (!c) { return; }
    if (!b) {
      b = document.createElementNS(SVGNS, "text");
      b.setAttribute("class", "badge");
      b.setAttribute("x", String(parseFloat(c.getAttribute("cx")) + parseFloat(c.getAttribute("r")) + 6));
      b.setAttribute("y", String(parseFloat(c.getAttribute("cy")) + 4));
      b.setAttribute("text-anchor", "start");
      b.setAttribute("data-badge", unit);
      c.parentNode.appendChild(b);
      m.badges[unit] = b;
    }
    b.textContent = text;
    b.removeAttribute("visibility");
  }

  function reset(m, u, ex) {
    m.orig.forEach(function (text, el) { el.textContent = text; });
    each(m.root.querySelectorAll(".hl"), function (el) { el.classList.remove("hl"); });
    Object.keys(m.badges).forEach(function (k) { m.badges[k].setAttribute("visibility", "hidden"); });
    updates[u].pending.forEach(function (p) { if (p[0] === ex) { setText(m, p[1], p[2]); } });
  }

  function highlight(m, key) {
    var at = key.indexOf(":"), kind = key.slice(0, at), name = key.slice(at + 1);
    var els = kind === "unit" ? [m.unit[name]] : kind === "edge" ? [m.edge[name]] : (m.name[name] || []);
    els.forEach(function (el) { if (el) { el.classList.add("hl"); } });
  }

  function apply(m, ln, current) {
    ln.set.forEach(function (s) { setText(m, s[0], s[1]); });
    ln.badge.forEach(function (b) { badge(m, b[0], b[1]); });
    if (current) { ln.hl.forEach(function (h) { highlight(m, h); }); }
  }

  function panel() {
    var ln = cur >= 0 ? lines[cur] : null;
    var eq = $("eq"), sides = $("eq-sides");
    $("panel-h").textContent = ln ? updates[ln.u].heading + " · " + ln.section : "Before the first update";
    eq.setAttribute("data-name", ln && ln.name ? ln.name : "");
    eq.setAttribute("data-example", ln ? String(ln.example) : "");
    eq.setAttribute("data-update", ln ? String(ln.u) : "");
    $("eq-lhs").textContent = ln ? ln.lhs : "Press Next (→) to start with the first line of the forward pass.";
    while (sides.firstChild) { sides.removeChild(sides.firstChild); }
    (ln ? ln.sides : []).forEach(function (s, k, all) {
      var li = document.createElement("li");
      li.textContent = "= " + s;
      if (k === all.length - 1 && ln.result) { li.id = "eq-result"; li.className = "result"; }
      sides.appendChild(li);
    });
    var notes = ln && ln.result.indexOf("†") >= 0 ? updates[ln.u].notes.filter(function (n) { return n.indexOf("†") >= 0; }) : [];
    $("note").hidden = notes.length === 0;
    $("note").textContent = notes.join(" ");
    each(document.querySelectorAll(".phases li"), function (li) {
      var on = ln !== null && li.getAttribute("data-phase") === ln.phase;
      li.classList.toggle("on", on);
      if (on) { li.setAttribute("aria-current", "step"); } else { li.removeAttribute("aria-current"); }
    });
    $("count").textContent = "Line " + (cur + 1) + " of " + lines.length;
    $("live").textContent = ln ? ln.text : "Before the first update";
    each(document.querySelectorAll(".worked li.cur"), function (li) { li.classList.remove("cur"); li.removeAttribute("aria-current"); });
    var item = ln ? $("line-" + cur) : null;
    if (item) { item.classList.add("cur"); item.setAttribute("aria-current", "step"); }
    $("prev").setAttribute("aria-disabled", String(cur < 0));
    $("first").setAttribute("aria-disabled", String(cur < 0));
    $("next").setAttribute("aria-disabled", String(cur >= lines.length - 1));
    var u = ln ? ln.u : -1;
    $("next-update").setAttribute("aria-disabled", String(firstOf[u + 1] === undefined));
  }

  function show(k) {
    cur = Math.max(-1, Math.min(lines.length - 1, k));
    var u = cur < 0 ? 0 : lines[cur].u, ex = cur < 0 ? 0 : lines[cur].example, key = u + ":" + ex;
    figures.forEach(function (f) { f.hidden = f.getAttribute("data-update") + ":" + f.getAttribute("data-example") !== key; });
    var m = maps[key];
    if (m) {
      reset(m, u, ex);
      for (var i = firstOf[u] === undefined ? 0 : firstOf[u]; i <= cur; i++) {
        if (lines[i].example === ex) { apply(m, lines[i], i === cur); }
      }
    }
    panel();
  }

  function nextUpdate() {
    var u = cur < 0 ? -1 : lines[cur].u;
    if (firstOf[u + 1] !== undefined) { show(firstOf[u + 1]); }
  }

  $("next").addEventListener("click", function () { show(cur + 1); });
  $("prev").addEventListener("click", function () { show(cur - 1); });
  $("first").addEventListener("click", function () { show(-1); });
  $("next-update").addEventListener("click", nextUpdate);
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var t = e.target, tag = t && t.tagName ? t.tagName.toUpperCase() : "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) { return; }
    var key = e.key;
    if (key === "ArrowRight" || key === "n" || key === "N" || (key === " " && tag !== "BUTTON")) { show(cur + 1); }
    else if (key === "ArrowLeft" || key === "p" || key === "P") { show(cur - 1); }
    else if (key === "Home") { show(-1); }
    else if (key === "End") { show(lines.length - 1); }
    else { return; }
    e.preventDefault();
  });

  // the epoch slider of a trained run: the journal's values at the chosen epoch
  var j = data.journal;
  if (j) {
    var slider = $("epoch"), net = index(document.querySelector("figure.epoch-net"));
    var setEpoch = function (k) {
      var say = "epoch " + j.epochs[k] + ": loss " + j.loss[k];
      $("epoch-out").textContent = say;
      slider.setAttribute("aria-valuetext", say);
      j.values[k].forEach(function (v, p) {
        var cell = document.querySelector('td[data-param="' + p + '"]');
        if (cell) { cell.textContent = v; }
        (net.name[j.diagram[p]] || []).forEach(function (el) {
          var o = net.orig.get(el), sp = o.indexOf(" ");
          el.textContent = (sp >= 0 ? o.slice(0, sp + 1) : "") + v;
        });
      });
      var dot = $("epoch-dot"), pt = j.curve.points[k];
      dot.setAttribute("cx", String(pt[0]));
      dot.setAttribute("cy", String(pt[1]));
    };
    slider.addEventListener("input", function () { setEpoch(parseInt(slider.value, 10)); });
    setEpoch(parseInt(slider.value, 10));
  }
  // live mode (deltarule serve): send the edited problem, show the pass the server returns
  var live = data.live, version = 0;
  function edited() {
    var doc = JSON.parse(JSON.stringify(live.problem));
    each($("editor").querySelectorAll("[data-path]"), function (inp) {
      var path = JSON.parse(inp.getAttribute("data-path")), o = doc, v = inp.value;
      for (var k = 0; k < path.length - 1; k++) { o = o[path[k]]; }
      var num = v.trim() === "" ? NaN : Number(v);  // the server validates; a non-number goes as text
      o[path[path.length - 1]] = inp.tagName === "SELECT" || !isFinite(num) ? v : num;
    });
    return doc;
  }
  function worked() {
    var ol = $("worked-list");
    while (ol.firstChild) { ol.removeChild(ol.firstChild); }
    lines.forEach(function (ln, k) {
      if (k === 0 || lines[k - 1].u !== ln.u) {
        var h = document.createElement("li");
        h.className = "upd";
        h.setAttribute("aria-hidden", "true");
        h.textContent = updates[ln.u].heading;
        ol.appendChild(h);
      }
      var li = document.createElement("li"), code = document.createElement("code");
      li.id = "line-" + k;
      li.value = k + 1;
      code.textContent = ln.text;
      li.appendChild(code);
      ol.appendChild(li);
    });
  }
  function replace(reply) {
    data.lines = lines = reply.data.lines;
    data.updates = updates = reply.data.updates;
    var stage = $("stage");
    figures.forEach(function (f) { f.parentNode.removeChild(f); });
    reply.figures.forEach(function (fg) {
      var svg = new DOMParser().parseFromString(fg.svg, "image/svg+xml").documentElement;
      if (svg.namespaceURI !== SVGNS || svg.localName !== "svg") { return; }
      each(svg.querySelectorAll("script,foreignObject"), function (el) { el.parentNode.removeChild(el); });
      var f = document.createElement("figure");
      f.className = "update";
      f.setAttribute("data-update", String(fg.update));
      f.setAttribute("data-example", String(fg.example));
      f.appendChild(document.importNode(svg, true));
      stage.appendChild(f);
    });
    indexAll();
    worked();
    show(cur);
    document.body.setAttribute("data-version", String(++version));
  }
  function send() {
    var doc = edited(), status = $("edit-status");
    status.textContent = "Solving…";
    fetch(live.endpoint, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(doc)})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, j: j}; }); })
      .then(function (res) {
        if (!res.ok) {
          status.textContent = "Not applied: " + res.j.error;
          status.className = "error";
          return;
        }
        live.current = doc;
        replace(res.j);
        status.className = "";
        status.textContent = "Applied: every number shown now follows from the edited problem.";
      })
      .catch(function (e) { status.textContent = "Not applied: " + e; status.className = "error"; });
  }
  if (live) {
    $("editor").addEventListener("submit", function (e) { e.preventDefault(); send(); });
    $("download").addEventListener("click", function () {
      var blob = new Blob([JSON.stringify(live.current || edited(), null, 1)], {type: "application/json"});
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "problem.json";
      document.body.appendChild(a);
      a.click();
      document.body.removeChild(a);
    });
  }
  show(-1);
}());
