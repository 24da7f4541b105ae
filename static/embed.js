/* Reader-support progress widget. No dependencies, no cookies, nothing global but one custom element.
 *
 *   <script src="https://support.example.org/embed.js" async></script>
 *   <div data-tracker-campaign="demo" data-refresh="60"></div>
 *   <reader-support-widget campaign="demo" variant="cta"></reader-support-widget>
 *
 * Each widget lives in its own Shadow DOM, so the host page's CSS cannot reach it and its CSS
 * cannot reach the host page. Every text from the API is set with textContent, never parsed as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var CSS =
    ":host{display:block;max-width:420px;font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".w{--bg:#fff;--fg:#1f2328;--mu:#57606a;--tr:#d0d7de;background:var(--bg);color:var(--fg);" +
    "padding:10px 14px;border-radius:8px}" +
    ".dark{--bg:#0d1117;--fg:#e6edf3;--mu:#9da7b3;--tr:#30363d}" +
    "@media (prefers-color-scheme:dark){.auto{--bg:#0d1117;--fg:#e6edf3;--mu:#9da7b3;--tr:#30363d}}" +
    "h2{font-size:15px;margin:0 0 6px}p{margin:0 0 8px}.mu{color:var(--mu);font-size:13px}" +
    ".cta{font-weight:600;font-size:15px}.bar{position:relative;height:56px}" +
    ".now{position:absolute;top:0;font-weight:700;white-space:nowrap}" +
    ".tr{position:absolute;top:20px;left:0;right:0;height:12px;border-radius:6px;background:var(--tr)}" +
    ".fi{height:12px;border-radius:6px;background:var(--ac);transition:width .6s ease-out}" +
    ".tk{position:absolute;top:36px;color:var(--mu);font-size:11px;white-space:nowrap}" +
    "@media (prefers-reduced-motion:reduce){.fi{transition:none}}" +
    ".btn{display:inline-block;padding:7px 16px;border-radius:6px;background:var(--ac);color:var(--at);" +
    "font-weight:600;text-decoration:none}";
  var SHIFT = { start: "0", middle: "-50%", end: "-100%" };

  function el(parent, tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  function place(node, position, anchor) {
    node.style.left = position + "%";
    node.style.transform = "translateX(" + SHIFT[anchor] + ")";
  }

  function luminance(hex) {
    var sum = 0, weights = [0.2126, 0.7152, 0.0722];
    for (var i = 0; i < 3; i++) {
      var c = parseInt(hex.substr(1 + 2 * i, 2), 16) / 255;
      sum += weights[i] * (c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
    }
    return sum;
  }

  function draw(root, data, opts) {
    var f = data.formatted, fill = Math.max(0, Math.min(100, parseFloat(data.percent) || 0));
    var variant = /^(bar|card|cta)$/.test(opts.variant) ? opts.variant : "card";
    var theme = /^(light|dark|auto)$/.test(opts.theme) ? opts.theme : "light";
    var accent = /^#[0-9a-fA-F]{6}$/.test(opts.accent) ? opts.accent : "#1f6feb";
    var w = document.createElement("div");
    w.className = "w " + theme;
    w.style.setProperty("--ac", accent);
    // Black or white text on the accent, whichever has the higher WCAG contrast.
    w.style.setProperty("--at", (luminance(accent) + 0.05) / 0.05 >= 1.05 / (luminance(accent) + 0.05) ? "#000" : "#fff");
    if (variant === "cta") el(w, "p", "cta", f.cta);
    if (variant === "card") el(w, "h2", "", data.title);
    var bar = el(w, "div", "bar");
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", data.title);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", data.goal.amount);
    // Exact decimal strings from the API, clamped into [0, goal] by comparing integer minor units.
    bar.setAttribute("aria-valuenow", data.raised.minor < 0 ? "0" :
      data.raised.minor > data.goal.minor ? data.goal.amount : data.raised.amount);
    bar.setAttribute("aria-valuetext", f.valuetext);
    place(el(bar, "span", "now", f.raised), fill, fill < 12 ? "start" : fill > 88 ? "end" : "middle");
    el(el(bar, "div", "tr"), "div", "fi").style.width = fill + "%";
    f.ticks.forEach(function (t) {
      var tick = el(bar, "span", "tk", t.label);
      if (t.title) tick.title = t.title;
      place(tick, parseFloat(t.position), t.kind === "start" ? "start" : t.kind === "goal" ? "end" : "middle");
    });
    if (variant === "card" && f.meta) el(w, "p", "mu", f.meta);
    if (variant !== "bar") {
      var link = el(w, "a", "btn", f.button);
      if (/^https?:\/\//.test(data.url)) link.href = data.url;
      link.target = "_blank";
      link.rel = "noopener";
    }
    var old = root.querySelector(".w");
    if (old) root.replaceChild(w, old); else root.appendChild(w);
  }

  function mount(host, get) {
    if (host.__readerSupport) return;
    var slug = get("campaign");
    if (!slug || !/^[a-z0-9-]{1,64}$/.test(slug)) return;
    var root = host.attachShadow({ mode: "open" });
    host.__readerSupport = root;
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      el(root, "style", "", CSS);
    }
    var locale = get("locale") || document.documentElement.lang || "";
    var url = base + "/api/v1/campaigns/" + slug + (locale ? "?locale=" + encodeURIComponent(locale) : "");
    var opts = { variant: get("variant"), theme: get("theme"), accent: get("accent") };
    // A refresh revalidates ("no-cache"): the tracker answers 304 for one cheap query when
    // nothing changed, and the browser's 60-second copy would otherwise hide a new donation.
    function load(refresh) {
      fetch(url, { credentials: "omit", cache: refresh ? "no-cache" : "default" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { draw(root, data, opts); })
        .catch(function () { /* keep what is shown; the next refresh may succeed */ });
    }
    load(false);
    var every = parseInt(get("refresh"), 10);
    if (every > 0) setInterval(load, Math.max(every, 15) * 1000, true);
  }

  function scan() {
    var nodes = document.querySelectorAll("[data-tracker-campaign]");
    for (var i = 0; i < nodes.length; i++) {
      (function (node) {
        mount(node, function (name) {
          return name === "campaign" ? node.getAttribute("data-tracker-campaign") : node.getAttribute("data-" + name);
        });
      })(nodes[i]);
    }
  }

  if (window.customElements && !customElements.get("reader-support-widget")) {
    customElements.define("reader-support-widget", class extends HTMLElement {
      connectedCallback() {
        var self = this;
        mount(this, function (name) { return self.getAttribute(name); });
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
