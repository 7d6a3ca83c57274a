// attn4j attention explorer: plain JavaScript, no libraries, no network beyond this server.
// Reads POST /attention (base64 float16 weights) and draws a head view (one colour per head,
// line opacity = weight, as bertviz's head_view), a heatmap per layer and head, and for
// classifiers the token attributions. Every token label is a DOM element of class "token".
(function () {
  'use strict';
  var CELL = 20;            // px per heatmap cell and per token row
  var LINK_WIDTH = 180;     // px between the two token columns of the head view
  var MIN_WEIGHT = 0.01;    // lines below this weight are not drawn

  var $ = function (id) { return document.getElementById(id); };
  var state = { models: [], data: null, weights: null, queries: [], keys: [], layer: 0, head: -1, hover: -1 };

  function authHeaders(json) {
    var h = {};
    if (json) h['Content-Type'] = 'application/json';
    var key = $('api-key').value || sessionStorage.getItem('attn4j-api-key') || '';
    if ($('api-key').value) sessionStorage.setItem('attn4j-api-key', $('api-key').value);
    if (key) h.Authorization = 'Bearer ' + key;
    return h;
  }

  function api(path, body) {
    var init = body ? { method: 'POST', headers: authHeaders(true), body: JSON.stringify(body) } : { headers: authHeaders(false) };
    return fetch(path, init).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j && j.error ? j.error.message : 'HTTP ' + r.status);
        return j;
      });
    });
  }

  function status(text, error) {
    var s = $('status');
    s.textContent = text;
    s.className = error ? 'error' : '';
  }

  // IEEE half precision to a JavaScript number.
  function half(h) {
    var sign = (h & 0x8000) ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    if (exp === 0) return sign * Math.pow(2, -14) * (frac / 1024);
    if (exp === 31) return frac ? NaN : sign * Infinity;
    return sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
  }

  // {data, shape, dtype: "float16"} (little-endian, base64) or nested arrays, as {values, shape}.
  function tensor(t) {
    if (t && t.data !== undefined && t.shape) {
      var bin = atob(t.data), n = bin.length / 2, values = new Float32Array(n);
      for (var i = 0; i < n; i++) values[i] = half(bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8));
      return { values: values, shape: t.shape };
    }
    var shape = [], probe = t;
    while (Array.isArray(probe)) { shape.push(probe.length); probe = probe[0]; }
    var flat = [];
    (function walk(a) { if (Array.isArray(a)) a.forEach(walk); else flat.push(a); })(t);
    return { values: Float32Array.from(flat), shape: shape };
  }

  // [queries][keys] weights of one layer and head (head -1: the mean over the heads).
  function matrix(layer, head) {
    var w = state.weights, s = w.shape, heads = s[1], q = s[2], k = s[3], out = new Float32Array(q * k);
    var first = head < 0 ? 0 : head, last = head < 0 ? heads - 1 : head, scale = 1 / (last - first + 1);
    for (var h = first; h <= last; h++) {
      var base = ((layer * heads) + h) * q * k;
      for (var i = 0; i < q * k; i++) out[i] += w.values[base + i] * scale;
    }
    return out;
  }

  function headColor(h, n) {
    return 'hsl(' + Math.round(360 * h / Math.max(1, n)) + ', 72%, 45%)';
  }

  function tokenElement(text, index, side) {
    var d = document.createElement('div');
    d.className = 'token';
    d.textContent = text;
    d.dataset.index = index;
    d.dataset.side = side;
    return d;
  }

  function loadModels() {
    return api('/v1/models').then(function (j) {
      state.models = j.data;
      var sel = $('model');
      sel.innerHTML = '';
      j.data.forEach(function (m) {
        var o = document.createElement('option');
        o.value = m.id;
        o.textContent = m.id + ' (' + m.kind + ')';
        sel.appendChild(o);
      });
      var preferred = new URLSearchParams(location.search).get('model');
      if (preferred) sel.value = preferred;
      modelChanged();
      status(j.data.length + ' model(s) loaded. Type a text and press Run.');
    }).catch(function (e) { status('Cannot list the models: ' + e.message, true); });
  }

  function currentModel() {
    var id = $('model').value;
    return state.models.filter(function (m) { return m.id === id; })[0];
  }

  function modelChanged() {
    var m = currentModel(), kind = m ? m.kind : '';
    $('pair-label').hidden = !(kind === 'classifier' || kind === 'seq2seq');
    $('text-caption').textContent = kind === 'seq2seq' ? 'Source' : 'Text';
    $('pair-caption').textContent = kind === 'seq2seq' ? 'Target (empty: decode)' : 'Second text (optional)';
  }

  function run(ev) {
    if (ev) ev.preventDefault();
    var m = currentModel();
    if (!m) { status('No model selected.', true); return; }
    var text = $('text').value, pair = $('text_pair').value;
    var body = { model: m.id, encoding: 'base64' };
    if (m.kind === 'seq2seq') {
      body.source = text;
      if (pair) body.target = pair;
    } else {
      body.text = text;
      if (m.kind === 'classifier' && pair) body.text_pair = pair;
    }
    status('Running ' + m.id + '...');
    api('/attention', body).then(show).catch(function (e) { status(e.message, true); });
  }

  function show(data) {
    state.data = data;
    var cross = !!data.cross_attentions;
    $('which-label').hidden = !(cross && data.attentions);
    state.which = cross && !data.attentions ? 'cross_attentions' : $('which').value;
    if (!data[state.which]) state.which = cross ? 'cross_attentions' : 'attentions';
    state.weights = tensor(data[state.which]);
    state.queries = state.which === 'cross_attentions' ? data.target_tokens : data.tokens;
    state.keys = data.tokens;
    var s = state.weights.shape;
    fillSelect($('layer'), s[0], false, Math.min(state.layer, s[0] - 1));
    fillSelect($('head'), s[1], true, state.head < s[1] ? state.head : -1);
    state.layer = +$('layer').value;
    state.head = +$('head').value;
    state.hover = -1;
    $('controls').hidden = false;
    legend();
    render();
    attributions(data);
    var what = state.which === 'cross_attentions' ? 'cross-attention (target \u00d7 source)' : 'self-attention';
    status(data.model + ': ' + what + ', ' + s[0] + ' layer(s) \u00d7 ' + s[1] + ' head(s), ' + s[2] + ' \u00d7 ' + s[3] + ' tokens'
      + (data.output !== undefined ? '; output "' + data.output + '"' : ''));
  }

  function fillSelect(sel, n, withAll, value) {
    sel.innerHTML = '';
    if (withAll) {
      var all = document.createElement('option');
      all.value = -1;
      all.textContent = 'all';
      sel.appendChild(all);
    }
    for (var i = 0; i < n; i++) {
      var o = document.createElement('option');
      o.value = i;
      o.textContent = i;
      sel.appendChild(o);
    }
    sel.value = value;
  }

  function legend() {
    var l = $('legend'), heads = state.weights.shape[1];
    l.innerHTML = '';
    for (var h = 0; h < heads; h++) {
      var s = document.createElement('span');
      s.className = 'swatch' + (state.head === h ? ' on' : '');
      s.style.background = headColor(h, heads);
      s.title = 'head ' + h;
      s.dataset.head = h;
      s.addEventListener('click', function (e) {
        var h = +e.target.dataset.head;
        state.head = state.head === h ? -1 : h;
        $('head').value = state.head;
        legend();
        render();
      });
      l.appendChild(s);
    }
  }

  function render() {
    headView();
    heatmap();
  }

  function headView() {
    var root = $('head-view'), s = state.weights.shape, heads = s[1], nq = s[2], nk = s[3];
    root.innerHTML = '';
    var left = document.createElement('div'), right = document.createElement('div');
    left.className = 'column left';
    right.className = 'column right';
    state.queries.forEach(function (t, i) { left.appendChild(tokenElement(t, i, 'query')); });
    state.keys.forEach(function (t, j) { right.appendChild(tokenElement(t, j, 'key')); });
    var ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg');
    var height = Math.max(nq, nk) * CELL;
    svg.setAttribute('width', LINK_WIDTH);
    svg.setAttribute('height', height);
    svg.dataset.layer = state.layer;
    svg.dataset.head = state.head;
    var first = state.head < 0 ? 0 : state.head, last = state.head < 0 ? heads - 1 : state.head;
    var w = state.weights.values;
    for (var h = first; h <= last; h++) {
      var color = headColor(h, heads), base = (state.layer * heads + h) * nq * nk;
      for (var i = 0; i < nq; i++) {
        for (var j = 0; j < nk; j++) {
          var v = w[base + i * nk + j];
          if (!(v >= MIN_WEIGHT)) continue;
          var line = document.createElementNS(ns, 'line');
          line.setAttribute('x1', 0);
          line.setAttribute('y1', i * CELL + CELL / 2);
          line.setAttribute('x2', LINK_WIDTH);
          line.setAttribute('y2', j * CELL + CELL / 2);
          line.setAttribute('stroke', color);
          line.setAttribute('stroke-width', 2);
          line.setAttribute('stroke-opacity', v.toFixed(3));
          line.dataset.head = h;
          line.dataset.query = i;
          line.dataset.key = j;
          svg.appendChild(line);
        }
      }
    }
    root.appendChild(left);
    root.appendChild(svg);
    root.appendChild(right);
    left.addEventListener('mouseover', function (e) {
      if (e.target.classList.contains('token')) hover(+e.target.dataset.index);
    });
    root.addEventListener('mouseleave', function () { hover(-1); });
    applyHover();
  }

  function heatmap() {
    var root = $('heatmap'), s = state.weights.shape, nq = s[2], nk = s[3];
    var m = matrix(state.layer, state.head);
    root.innerHTML = '';
    root.style.gridTemplateColumns = 'max-content ' + (nk * CELL + 2) + 'px';
    var corner = document.createElement('div'), cols = document.createElement('div'), rows = document.createElement('div');
    cols.className = 'cols';
    rows.className = 'rows';
    state.keys.forEach(function (t, j) { cols.appendChild(tokenElement(t, j, 'column')); });
    state.queries.forEach(function (t, i) { rows.appendChild(tokenElement(t, i, 'row')); });
    var canvas = document.createElement('canvas');
    canvas.width = nk * CELL;
    canvas.height = nq * CELL;
    canvas.dataset.layer = state.layer;
    canvas.dataset.head = state.head;
    var g = canvas.getContext('2d');
    for (var i = 0; i < nq; i++) {
      for (var j = 0; j < nk; j++) {
        var v = Math.max(0, Math.min(1, m[i * nk + j]));
        // white (0) to deep blue (1)
        g.fillStyle = 'rgb(' + Math.round(255 - 225 * v) + ',' + Math.round(255 - 170 * v) + ',' + Math.round(255 - 60 * v) + ')';
        g.fillRect(j * CELL, i * CELL, CELL, CELL);
      }
    }
    root.appendChild(corner);
    root.appendChild(cols);
    root.appendChild(rows);
    root.appendChild(canvas);
    canvas.addEventListener('mousemove', function (e) {
      var r = canvas.getBoundingClientRect();
      hover(Math.floor((e.clientY - r.top) / CELL));
    });
    canvas.addEventListener('mouseleave', function () { hover(-1); });
    rows.addEventListener('mouseover', function (e) {
      if (e.target.classList.contains('token')) hover(+e.target.dataset.index);
    });
    var pcs = state.weights.shape[1];
    $('heatmap-caption').textContent = 'layer ' + state.layer + ', ' + (state.head < 0 ? 'mean of ' + pcs + ' heads' : 'head ' + state.head)
      + '; rows: ' + (state.which === 'cross_attentions' ? 'target' : 'query') + ' tokens, columns: ' + (state.which === 'cross_attentions' ? 'source' : 'key') + ' tokens';
    state.canvas = canvas;
    state.matrix = m;
    applyHover();
  }

  function hover(i) {
    if (i >= state.queries.length) i = -1;
    if (state.hover === i) return;
    state.hover = i;
    applyHover();
  }

  // The hovered query: its row is highlighted in the heatmap and its lines alone shown in the head view.
  function applyHover() {
    var i = state.hover;
    document.querySelectorAll('#head-view .column.left .token, #heatmap .rows .token').forEach(function (el) {
      el.classList.toggle('highlight', +el.dataset.index === i);
    });
    document.querySelectorAll('#head-view line').forEach(function (l) {
      l.style.display = i < 0 || +l.dataset.query === i ? '' : 'none';
    });
    document.querySelectorAll('#head-view .column.right .token').forEach(function (el) {
      el.classList.remove('highlight');
    });
    if (i >= 0 && state.matrix) {
      var nk = state.keys.length;
      document.querySelectorAll('#head-view .column.right .token').forEach(function (el) {
        el.classList.toggle('highlight', state.matrix[i * nk + (+el.dataset.index)] >= 0.1);
      });
    }
    var c = state.canvas;
    if (!c) return;
    var old = c.parentNode.querySelector('.row-outline');
    if (old) old.remove();
    if (i >= 0) {
      var o = document.createElement('div');
      o.className = 'row-outline';
      o.style.cssText = 'position:absolute;pointer-events:none;border:2px solid #f59e0b;box-sizing:border-box;'
        + 'left:' + c.offsetLeft + 'px;top:' + (c.offsetTop + i * CELL) + 'px;width:' + c.width + 'px;height:' + CELL + 'px';
      c.parentNode.style.position = 'relative';
      c.parentNode.appendChild(o);
    }
  }

  function attributions(data) {
    var panel = $('attributions-panel'), root = $('attributions');
    root.innerHTML = '';
    if (!data.attributions) { panel.hidden = true; return; }
    panel.hidden = false;
    var a = data.attributions;
    $('attributions-caption').textContent = 'of the predicted label';
    var label = document.createElement('div');
    label.className = 'label';
    label.textContent = 'Predicted: ' + a.label + ' (logit ' + a.logit.toFixed(3) + ')';
    root.appendChild(label);
    [['gradient \u00d7 input', a.gradient_x_input], ['attention rollout', a.attention_rollout]].forEach(function (pair) {
      var title = document.createElement('div');
      title.textContent = pair[0];
      root.appendChild(title);
      var row = document.createElement('div');
      row.className = 'row';
      var max = 1e-12;
      pair[1].forEach(function (v) { max = Math.max(max, Math.abs(v)); });
      data.tokens.forEach(function (t, i) {
        var el = tokenElement(t, i, 'attribution'), v = pair[1][i] / max;
        el.style.background = v >= 0 ? 'rgba(22,163,74,' + v.toFixed(3) + ')' : 'rgba(220,38,38,' + (-v).toFixed(3) + ')';
        el.title = pair[1][i].toPrecision(4);
        row.appendChild(el);
      });
      root.appendChild(row);
    });
  }

  $('form').addEventListener('submit', run);
  $('model').addEventListener('change', modelChanged);
  $('layer').addEventListener('change', function () { state.layer = +$('layer').value; render(); });
  $('head').addEventListener('change', function () { state.head = +$('head').value; legend(); render(); });
  $('which').addEventListener('change', function () { if (state.data) show(state.data); });
  loadModels();
})();
