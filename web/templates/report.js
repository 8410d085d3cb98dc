// The page's own script: sortable, filterable tables drawn from the embedded JSON,
// the echarts charts, the flame graph, and links between tables and the call graph.
// Every user-supplied string reaches the DOM through textContent, never innerHTML.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // ---- tables ----
  var F_EST = 1, F_NOPCT = 2, F_GRAPH = 4, F_BUCKET = 8;
  var tables = {};

  function fmt(col, v, flags) {
    if (v === null || v === undefined) return "";
    var s;
    if (col.t === "int") s = String(v);
    else if (col.t === "sec") s = v.toFixed(6);
    else return String(v);
    if (col.est && (flags & F_EST)) s = "\u2248" + s;
    if (col.tot && !(flags & F_NOPCT)) s += " (" + (100 * v / col.tot).toFixed(2) + "%)";
    return s;
  }

  function cmpValues(a, b, numeric) {
    // Empty cells sort last whichever way the column is sorted.
    var an = a === null || a === undefined, bn = b === null || b === undefined;
    if (an || bn) return an === bn ? 0 : (an ? 2 : -2);
    if (numeric) return a < b ? -1 : a > b ? 1 : 0;
    a = String(a); b = String(b);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function Table(box, spec) {
    this.spec = spec;
    this.box = box;
    this.order = [];
    for (var i = 0; i < spec.rows.length; i++) this.order.push(i);
    this.filter = "";
    this.sortCol = -1;
    this.desc = true;
    this.build();
    this.sortBy(spec.sort, true);
  }

  Table.prototype.build = function () {
    var self = this, spec = this.spec;
    var bar = el("div", "tbar");
    var input = el("input");
    input.type = "search";
    input.placeholder = "filter by " + (spec.cols[spec.name] ? spec.cols[spec.name].l : "name");
    input.setAttribute("aria-label", "filter " + spec.id);
    input.className = "filter";
    input.addEventListener("input", function () { self.filter = input.value.toLowerCase(); self.render(); });
    this.input = input;
    this.count = el("span", "count");
    bar.appendChild(input);
    bar.appendChild(this.count);
    this.box.appendChild(bar);
    var table = el("table", "sortable");
    table.id = "table-" + spec.id;
    var thead = el("thead"), tr = el("tr");
    this.ths = [];
    spec.cols.forEach(function (c, i) {
      var th = el("th", c.t === "name" || c.t === "str" ? "str" : "num", c.l);
      if (c.title) th.title = c.title;
      th.setAttribute("data-key", c.k);
      th.tabIndex = 0;
      th.addEventListener("click", function () { self.sortBy(i); });
      th.addEventListener("keydown", function (ev) { if (ev.key === "Enter") self.sortBy(i); });
      self.ths.push(th);
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    table.appendChild(thead);
    this.tbody = el("tbody");
    table.appendChild(this.tbody);
    this.box.appendChild(table);
    var self2 = this;
    window.addEventListener("scroll", function () { self2.scrolled(); }, { passive: true });
    window.addEventListener("resize", function () { self2.scrolled(); });
  };

  // sortBy sorts on column i: numeric where numeric, descending first for numbers and
  // ascending first for text, toggling on a second click. Array.prototype.sort is
  // stable, so rows that tie keep their previous relative order.
  Table.prototype.sortBy = function (i, initial) {
    var col = this.spec.cols[i];
    if (!col) return;
    if (this.sortCol === i && !initial) this.desc = !this.desc;
    else this.desc = !(col.t === "name" || col.t === "str");
    this.sortCol = i;
    var rows = this.spec.rows, k = i + 2, numeric = !(col.t === "name" || col.t === "str"), dir = this.desc ? -1 : 1;
    this.order.sort(function (a, b) {
      var c = cmpValues(rows[a][k], rows[b][k], numeric);
      if (c === 2 || c === -2) return c;
      return dir * c;
    });
    this.ths.forEach(function (th, j) {
      th.classList.remove("asc", "desc");
      th.removeAttribute("aria-sort");
      if (j === i) { th.classList.add(dir < 0 ? "desc" : "asc"); th.setAttribute("aria-sort", dir < 0 ? "descending" : "ascending"); }
    });
    this.render();
  };

  Table.prototype.visible = function () {
    var rows = this.spec.rows, k = this.spec.name + 2, f = this.filter;
    if (!f) return this.order;
    return this.order.filter(function (r) { return String(rows[r][k]).toLowerCase().indexOf(f) >= 0; });
  };

  // Tables of up to FULL rows are drawn whole. Longer ones (100k coroutines) are
  // virtual: every row is reachable by scrolling, but only the rows near the viewport
  // are in the DOM, between two spacer rows that keep the scroll height true; so a
  // sort, a filter or a jump redraws about a hundred rows, whatever the table's size.
  var FULL = 1000, ROWH = 20, SLACK = 60;

  Table.prototype.render = function () {
    this.vis = this.visible();
    this.win = null;
    this.draw();
    this.count.textContent = (this.filter ? this.vis.length + " of " : "") + this.spec.rows.length + " rows" +
      (this.vis.length > FULL ? " (drawn as you scroll)" : "");
  };

  Table.prototype.scrolled = function () {
    var self = this;
    if (!this.vis || this.vis.length <= FULL || this.pending) return;
    this.pending = true;
    requestAnimationFrame(function () { self.pending = false; self.draw(); });
  };

  Table.prototype.window = function () {
    var n = this.vis.length;
    if (n <= FULL) return [0, n];
    var top = this.tbody.getBoundingClientRect().top;
    var first = Math.floor(Math.max(0, -top) / this.rowH);
    var start = Math.max(0, Math.min(n, first) - SLACK);
    var end = Math.min(n, first + Math.ceil(window.innerHeight / this.rowH) + SLACK);
    return [start, Math.max(end, Math.min(n, start + 2 * SLACK))];
  };

  Table.prototype.spacer = function (rows) {
    var tr = el("tr", "spacer"), td = el("td");
    td.colSpan = this.spec.cols.length;
    td.style.height = (rows * this.rowH) + "px";
    tr.appendChild(td);
    return tr;
  };

  Table.prototype.draw = function () {
    if (!this.rowH) this.rowH = ROWH;
    var w = this.window();
    if (this.win && this.win[0] === w[0] && this.win[1] === w[1]) return;
    this.win = w;
    var frag = document.createDocumentFragment(), rows = this.spec.rows, n = this.vis.length;
    if (w[0] > 0) frag.appendChild(this.spacer(w[0]));
    for (var j = w[0]; j < w[1]; j++) frag.appendChild(this.row(rows[this.vis[j]]));
    if (w[1] < n) frag.appendChild(this.spacer(n - w[1]));
    this.tbody.textContent = "";
    this.tbody.appendChild(frag);
    if (n > FULL) {
      // Spacers assume one height for every row: measure it once (cells never wrap).
      var real = this.tbody.querySelector("tr:not(.spacer)");
      if (real && real.offsetHeight > 0 && Math.abs(real.offsetHeight - this.rowH) > 0.5) {
        this.rowH = real.offsetHeight;
        this.win = null;
        this.draw();
      }
    }
  };

  Table.prototype.row = function (r) {
    var spec = this.spec, tr = el("tr"), flags = r[1];
    if (r[0] !== -1) tr.id = spec.rowid + r[0];
    if (flags & F_EST) tr.className = "estrow";
    if (flags & F_BUCKET) tr.className = "bucket";
    if (this.hl !== undefined && this.hl === String(r[0])) tr.classList.add("target");
    for (var i = 0; i < spec.cols.length; i++) {
      var c = spec.cols[i], v = r[i + 2], td;
      if (c.t === "name") {
        td = el("td", "name");
        if (spec.link && (flags & F_GRAPH)) {
          var a = el("a", "", v);
          a.href = "#" + spec.link + r[0];
          td.appendChild(a);
        } else td.textContent = v;
      } else {
        td = el("td", c.t === "str" ? "str" : "num", fmt(c, v, flags));
      }
      tr.appendChild(td);
    }
    return tr;
  };

  // reveal makes the row with the given key visible (clearing a filter that hides it,
  // drawing enough rows) and returns its element.
  Table.prototype.reveal = function (key) {
    var rows = this.spec.rows;
    if (this.filter) { this.filter = ""; this.input.value = ""; this.render(); }
    var pos = -1;
    for (var i = 0; i < this.vis.length; i++) if (String(rows[this.vis[i]][0]) === key) { pos = i; break; }
    if (pos < 0) return null;
    if (this.vis.length > FULL) {
      var top = this.tbody.getBoundingClientRect().top + window.pageYOffset;
      window.scrollTo(0, top + pos * this.rowH - window.innerHeight / 2);
      this.draw();
    }
    return document.getElementById(this.spec.rowid + key);
  };

  data.tables.forEach(function (spec) {
    var box = document.querySelector('[data-table="' + spec.id + '"]');
    if (box) tables[spec.id] = new Table(box, spec);
  });

  function follow() {
    var h = decodeURIComponent(location.hash.slice(1));
    var m = /^(self|cumulative|co)-(-?\d+)$/.exec(h);
    var target = null, t = null;
    var old = document.querySelectorAll(".target");
    for (var i = 0; i < old.length; i++) old[i].classList.remove("target");
    Object.keys(tables).forEach(function (k) { tables[k].hl = undefined; });
    if (m) {
      t = tables[m[1] === "co" ? "coroutines" : m[1]];
      if (t) {
        t.hl = m[2]; // a virtual table redraws rows: the row itself remembers it is the target
        target = t.reveal(m[2]);
      }
    } else if (h) target = document.getElementById(h);
    if (!target) return;
    if (!t || t.vis.length <= FULL) target.scrollIntoView({ block: "center" });
    target.classList.add("target");
  }
  window.addEventListener("hashchange", follow);

  // ---- charts ----
  function sliceItem(params, api) {
    var lane = api.value(0), a = api.coord([api.value(1), lane]), b = api.coord([api.value(2), lane]);
    var h = api.size([0, 1])[1] * 0.6;
    var rect = echarts.graphic.clipRectByRect({ x: a[0], y: a[1] - h / 2, width: Math.max(b[0] - a[0], 1), height: h },
      { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height });
    return rect && { type: "rect", shape: rect, style: api.style() };
  }
  var charts = document.querySelectorAll("[data-chart]");
  for (var ci = 0; ci < charts.length; ci++) {
    var box = charts[ci], opt = data.charts[box.getAttribute("data-chart")];
    if (!opt) continue;
    if (typeof echarts === "undefined") { box.textContent = "echarts runtime missing from this page"; continue; }
    (opt.series || []).forEach(function (s) {
      if (s.type === "custom") {
        s.renderItem = sliceItem;
        s.encode = { x: [1, 2], y: 0 };
        // Draw every slice in one pass: echarts' progressive rendering paints large
        // series in chunks across frames, so a screenshot or a print taken early shows
        // only the first chunk of the timeline.
        s.progressive = 0;
      }
    });
    if (opt.series && opt.series.length && opt.series[0].type === "custom") {
      opt.tooltip = { trigger: "item", formatter: function (p) {
        var v = p.value;
        return (v[2] - v[1]).toFixed(6) + " s from " + v[1].toFixed(6) + " s, " + v[3];
      } };
    }
    echarts.init(box, null, { renderer: "canvas" }).setOption(opt);
  }

  // ---- flame graph ----
  var ROW = 18;
  function flame(container, root) {
    var focus = [root]; // path from root to the zoomed frame
    function draw() {
      container.textContent = "";
      var z = focus[focus.length - 1], maxDepth = 0;
      var frag = document.createDocumentFragment();
      function box(node, depth, x, w, total) {
        var d = el("div", "fr", node.n);
        d.style.left = (100 * x) + "%";
        d.style.width = (100 * w) + "%";
        d.style.top = (depth * ROW) + "px";
        d.title = node.n + "\n" + node.v + " samples, " + (100 * node.v / root.v).toFixed(2) + "% of all" +
          (z !== root ? ", " + (100 * node.v / total).toFixed(2) + "% of the zoomed frame" : "");
        d.addEventListener("click", function () {
          var i = focus.indexOf(node);
          if (i >= 0) focus = focus.slice(0, i + 1);
          else focus = pathTo(node);
          draw();
        });
        var hue = 0, s = node.n;
        for (var i = 0; i < s.length; i++) hue = (hue * 31 + s.charCodeAt(i)) % 360;
        d.style.background = "hsl(" + (hue % 60 + 10) + ",80%," + (60 + hue % 15) + "%)";
        frag.appendChild(d);
        if (depth > maxDepth) maxDepth = depth;
      }
      // Ancestors of the zoomed frame span the full width.
      for (var i = 0; i < focus.length - 1; i++) box(focus[i], i, 0, 1, z.v);
      // Depth first with a stack of its own, not recursion, so no tree is too deep
      // for the script (the model caps stacks, but the page need not rely on it);
      // children go on in reverse so they are drawn left to right, as before.
      var todo = [{ node: z, depth: focus.length - 1, x: 0 }];
      while (todo.length) {
        var t = todo.pop(), w = t.node.v / z.v;
        if (w < 0.001) continue;
        box(t.node, t.depth, t.x, w, z.v);
        var kids = t.node.c || [], xs = [], cx = t.x;
        for (var k = 0; k < kids.length; k++) { xs.push(cx); cx += kids[k].v / z.v; }
        for (k = kids.length - 1; k >= 0; k--) todo.push({ node: kids[k], depth: t.depth + 1, x: xs[k] });
      }
      container.style.height = ((maxDepth + 1) * ROW) + "px";
      container.appendChild(frag);
    }
    function pathTo(target) {
      // Depth first, iteratively (see draw); each entry remembers its parent entry.
      var todo = [{ node: root, up: null }];
      while (todo.length) {
        var t = todo.pop();
        if (t.node === target) {
          var path = [];
          for (; t; t = t.up) path.unshift(t.node);
          return path;
        }
        var kids = t.node.c || [];
        for (var i = kids.length - 1; i >= 0; i--) todo.push({ node: kids[i], up: t });
      }
      return [root];
    }
    draw();
  }
  var sel = document.getElementById("flame-select"), graph = document.getElementById("flame-graph");
  if (sel && graph && data.flames) {
    data.flames.forEach(function (f, i) {
      var o = el("option", "", f.label);
      o.value = String(i);
      sel.appendChild(o);
    });
    sel.addEventListener("change", function () { flame(graph, data.flames[+sel.value].tree); });
    flame(graph, data.flames[0].tree);
  }

  follow();
  document.body.setAttribute("data-ready", "1");
})();
