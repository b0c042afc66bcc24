// Browser side of the lesson pages (copied to lessons/assets/lesson.js by scripts/build-site.ts).
// Draws the plotly figures from their JSON (plotly.js comes from assets/, loaded once), folds code,
// highlights the current section in the contents, remembers which exercises the reader marked done
// (localStorage, which also works from file://), and prepares the page for printing.
'use strict';

(function () {

  // The page shell's words that this script writes, in the page's language (<html lang>).
  var zh = /^zh/i.test(document.documentElement.lang);
  var words = zh
    ? { fold: '折叠代码', unfold: '展开代码', done: '标记为完成', cannotDraw: '这张图无法绘制：' }
    : { fold: 'Fold code', unfold: 'Unfold code', done: 'Mark as done', cannotDraw: 'This figure could not be drawn: ' };

  // Charts keep their figure's layout, on a transparent background; in dark mode site.css
  // recolours their text and grid, so switching scheme or printing needs no redraw.
  function transparent(layout) {
    var out = Object.assign({}, layout);
    out.paper_bgcolor = 'rgba(0,0,0,0)';
    out.plot_bgcolor = 'rgba(0,0,0,0)';
    out.legend = Object.assign({ bgcolor: 'rgba(0,0,0,0)' }, out.legend);
    out.modebar = Object.assign({ bgcolor: 'rgba(0,0,0,0)' }, out.modebar);
    return out;
  }

  function drawFigures() {
    var scripts = document.querySelectorAll('script[type="application/vnd.plotly.v1+json"]');
    if (!scripts.length) return;
    if (!window.Plotly) {
      console.error('lesson.js: assets/plotly.js did not load, so ' + scripts.length + ' figure(s) cannot be drawn');
      return;
    }
    scripts.forEach(function (script) {
      var el = script.parentElement.querySelector('.plotly-figure');
      var spec = JSON.parse(script.textContent);
      var config = Object.assign({ responsive: true, displaylogo: false }, spec.config);
      window.Plotly.newPlot(el, spec.data || [], transparent(spec.layout), config).catch(function (err) {
        el.textContent = words.cannotDraw + err.message;
        console.error(err);
      });
    });
  }

  function foldButton() {
    var button = document.querySelector('.fold-code');
    var cells = document.querySelectorAll('details.cell-input');
    if (!button || !cells.length) return;
    button.hidden = false;
    function update() {
      var anyOpen = Array.prototype.some.call(cells, function (d) { return d.open; });
      button.textContent = anyOpen ? words.fold : words.unfold;
      button.setAttribute('aria-pressed', String(!anyOpen));
    }
    button.addEventListener('click', function () {
      var open = !Array.prototype.some.call(cells, function (d) { return d.open; });
      cells.forEach(function (d) { d.open = open; });
      update();
    });
    cells.forEach(function (d) { d.addEventListener('toggle', update); });
    update();
  }

  // Marks the contents entry of the section being read.
  function scrollSpy() {
    var links = document.querySelectorAll('.toc a[href^="#"]');
    if (!links.length || !('IntersectionObserver' in window)) return;
    var byId = {};
    var headings = [];
    links.forEach(function (a) {
      var id = decodeURIComponent(a.getAttribute('href').slice(1));
      var h = document.getElementById(a.getAttribute('href').slice(1)) || document.getElementById(id);
      if (h) { byId[h.id] = a; headings.push(h); }
    });
    var visible = new Set();
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) visible.add(e.target); else visible.delete(e.target); });
      var current = headings.filter(function (h) { return visible.has(h); })[0];
      if (!current) return;
      links.forEach(function (a) { a.classList.remove('current'); });
      byId[current.id].classList.add('current');
    }, { rootMargin: '0px 0px -70% 0px' });
    headings.forEach(function (h) { observer.observe(h); });
  }

  // A "Mark as done" box under each exercise, remembered per page and exercise in this browser.
  function doneBoxes() {
    var store;
    try {
      store = window.localStorage;
      store.getItem('probe');
    } catch (e) {
      return; // storage disabled: no boxes rather than boxes that forget
    }
    var page = location.pathname.split('/').pop();
    document.querySelectorAll('section.celltag_exercise[data-exercise]').forEach(function (cell) {
      var key = 'rnn-workbook:done:' + page + ':' + cell.getAttribute('data-exercise');
      var label = document.createElement('label');
      label.className = 'exercise-done';
      var box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = store.getItem(key) === '1';
      box.addEventListener('change', function () {
        try {
          if (box.checked) store.setItem(key, '1');
          else store.removeItem(key);
        } catch (e) {
          console.warn('lesson.js: could not remember the exercise as done: ' + e.message);
        }
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(' ' + words.done));
      cell.appendChild(label);
    });
  }

  // Paper cannot unfold code: open every cell for printing (site.css does it too where
  // browsers support ::details-content), and fold them back afterwards.
  var foldedForPrint = [];
  window.addEventListener('beforeprint', function () {
    foldedForPrint = Array.prototype.filter.call(document.querySelectorAll('details'), function (d) { return !d.open; });
    foldedForPrint.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () {
    foldedForPrint.forEach(function (d) { d.open = false; });
  });

  // Where the contents sits above the lesson rather than beside it, start it folded.
  var toc = document.querySelector('.toc details');
  if (toc && window.matchMedia('(max-width: 75rem)').matches) toc.open = false;

  drawFigures();
  foldButton();
  doneBoxes();
  scrollSpy();
})();
