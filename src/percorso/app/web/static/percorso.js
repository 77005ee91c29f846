/*! percorso.js: Percorso's website snippet (AGPL-3.0-or-later); guide in docs/snippet.md.
 * Plain ES2017 with no dependencies, so it runs as served: no build step. */
(() => {
  "use strict";
  const VERSION = "0.1.0";
  const w = window, d = document, nav = navigator, loc = location;
  const stub = w.percorso;
  // Two tags on one page (or a tag manager plus a tag): the first copy wins.
  if (stub && stub.loaded) return;
  const script = d.currentScript || d.querySelector("script[src*=percorso][data-write-key]");
  const attr = (name) => (script && script.getAttribute(name)) || "";
  const writeKey = attr("data-write-key");
  // The collector serves this script, so by default it is where the script came from.
  const src = /^(.*)\/js\/percorso[\w.-]*\.js([?#].*)?$/.exec((script && script.src) || "");
  const host = (attr("data-host") || (src ? src[1] : "")).replace(/\/+$/, "");
  const optedOut = attr("data-respect-dnt") === "true" &&
    (nav.globalPrivacyControl === true || nav.doNotTrack === "1" || w.doNotTrack === "1");
  const noop = () => {};
  if (optedOut || !writeKey || !host) {
    if (!optedOut) console.warn("percorso.js: the script tag needs data-write-key (and data-host if served elsewhere)");
    // Calls keep working as no-ops: nothing is stored, nothing is sent.
    w.percorso = { loaded: true, VERSION, track: noop, identify: noop, page: noop, reset: noop, push: noop };
    return;
  }

  // Storage may be missing or throw (private modes, blocked site data).
  const probe = (kind) => { try { const s = w[kind]; s.setItem("pc_t", "1"); s.removeItem("pc_t"); return s; } catch (e) { return null; } };
  const local = probe("localStorage"), session = probe("sessionStorage");
  const get = (s, k) => { try { return s ? s.getItem(k) : null; } catch (e) { return null; } };
  const put = (s, k, v) => { try { if (v == null) s.removeItem(k); else s.setItem(k, v); return true; } catch (e) { return false; } };
  const getJson = (s, k) => { try { return JSON.parse(get(s, k)); } catch (e) { return null; } };
  const cookie = (value) => {
    if (value === undefined) { const m = /(?:^|;\s*)pc_aid=([^;]+)/.exec(d.cookie); return m ? decodeURIComponent(m[1]) : null; }
    d.cookie = `pc_aid=${encodeURIComponent(value)}; path=/; max-age=31536000; SameSite=Lax${loc.protocol === "https:" ? "; Secure" : ""}`;
  };
  const uuid = () => {
    // randomUUID exists only in secure contexts; getRandomValues on plain http too.
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const newAnonymousId = (fresh) => {
    const id = (!fresh && (get(local, "pc_aid") || cookie())) || uuid();
    if (!put(local, "pc_aid", id)) cookie(id);
    return id;
  };
  let anonymousId = newAnonymousId(false);
  let userId = get(local, "pc_uid");

  // The landing of this browser session: its campaign and external referrer go
  // with every later page, so the thank-you page still says how the visitor
  // came. Only a campaign link starts a new visit (or an outside link after a
  // direct one), so a return from a payment page keeps the ad that brought them.
  const UTM = { source: "utm_source", medium: "utm_medium", name: "utm_campaign", term: "utm_term", content: "utm_content",
    gclid: "gclid", gbraid: "gbraid", wbraid: "wbraid", msclkid: "msclkid", fbclid: "fbclid", ttclid: "ttclid", li_fat_id: "li_fat_id" };
  const landing = () => {
    const q = new URLSearchParams(loc.search), campaign = {};
    Object.keys(UTM).forEach((k) => { if (q.get(UTM[k])) campaign[k] = q.get(UTM[k]); });
    let external = "";
    try { if (new URL(d.referrer).host !== loc.host) external = d.referrer; } catch (e) { /* no referrer */ }
    let saved = getJson(session, "pc_visit");
    if (!saved || typeof saved.campaign !== "object" || !saved.campaign) saved = null;
    const bare = !saved || (!saved.referrer && !Object.keys(saved.campaign).length);
    if (saved && !Object.keys(campaign).length && !(bare && external)) return saved;
    const visit = { campaign, referrer: external };
    put(session, "pc_visit", JSON.stringify(visit));
    return visit;
  };
  let visit = landing();

  const pageInfo = () => ({ url: loc.href.split("#")[0], path: loc.pathname, referrer: d.referrer, title: d.title, search: loc.search });
  const message = (type, fields) => {
    const context = { page: pageInfo(), userAgent: nav.userAgent, locale: nav.language, library: { name: "percorso.js", version: VERSION } };
    if (Object.keys(visit.campaign).length) context.campaign = visit.campaign;
    if (visit.referrer) context.referrer = { url: visit.referrer };
    const m = Object.assign({ type, messageId: uuid(), anonymousId, timestamp: new Date().toISOString(), context }, fields);
    if (userId) m.userId = userId;
    return m;
  };

  // The collector refuses a whole batch holding a message over 32 KB, and
  // keepalive and beacon bodies stop at 64 KB: hence the two limits.
  const MAX_MESSAGE = 32000, MAX_BODY = 60000, MAX_QUEUED = 100, LEASE = 15000;
  const size = (x) => new Blob([typeof x === "string" ? x : JSON.stringify(x)]).size;
  let buffer = [], timer = 0, backoff = 0, retryTimer = 0, leaving = false;
  const enqueue = (m) => {
    if (size(m) > MAX_MESSAGE) { console.warn("percorso.js: dropped a message over 32 KB:", m.event || m.type); return; }
    buffer.push(m);
    // Calls made in the same tick leave in one request.
    if (!timer) timer = setTimeout(flush, 0);
  };
  const flush = (unloading) => {
    clearTimeout(timer); timer = 0;
    let chunk = [], bytes = 0;
    buffer.splice(0).forEach((m) => {
      if (chunk.length && bytes + size(m) > MAX_BODY) { post(chunk, unloading === true); chunk = []; bytes = 0; }
      chunk.push(m); bytes += size(m);
    });
    if (chunk.length) post(chunk, unloading === true);
  };
  const post = (batch, unloading) => {
    const url = `${host}/v1/batch`;
    // text/plain keeps the request "simple" (no CORS preflight); the collector reads any body as JSON.
    const body = JSON.stringify({ batch, sentAt: new Date().toISOString(), writeKey });
    if (unloading && nav.sendBeacon) {
      // A beacon is delivered after the page is gone (a form's navigation).
      if (!nav.sendBeacon(url, new Blob([body], { type: "text/plain" }))) keep(batch);
      return;
    }
    const keepalive = size(body) < MAX_BODY;
    fetch(url, { method: "POST", body, headers: { "Content-Type": "text/plain" }, keepalive, credentials: "omit" })
      .then((r) => {
        if (r.status >= 500 || r.status === 429 || r.status === 408) throw new Error(r.status);
        // Other answers are final: 2xx stored; 4xx refused, or kept as failed events by the collector.
        if (r.status >= 400) console.warn("percorso.js: the collector answered", r.status);
        settle(batch, false);
      })
      // After pagehide the browser carries keepalive requests on alone but
      // rejects their promises here: queueing them again would send them twice.
      .catch(() => { if (!(leaving && keepalive)) settle(batch, true); });
  };

  // A small persistent queue for what the collector could not take (down, 503).
  // Entries carry a lease while in flight so two pages do not send the same
  // ones at once; a resend after a lost answer is harmless, as the collector
  // drops a messageId it has already stored.
  let memory = [];
  const load = () => {
    const q = local ? getJson(local, "pc_queue") : memory;
    return Array.isArray(q) ? q.filter((e) => e && e.m && e.m.messageId) : [];
  };
  const save = (q) => { q = q.slice(-MAX_QUEUED); if (!local) memory = q; else put(local, "pc_queue", q.length ? JSON.stringify(q) : null); };
  const keep = (batch) => save(load().concat(batch.map((m) => ({ m, l: 0 }))));
  const schedule = (delay) => { clearTimeout(retryTimer); retryTimer = setTimeout(drain, delay); };
  const settle = (batch, failed) => {
    const ids = new Set(batch.map((m) => m.messageId)), before = load();
    const q = before.filter((e) => !ids.has(e.m.messageId));
    if (failed) batch.forEach((m) => q.push({ m, l: 0 }));
    if (failed || q.length !== before.length) save(q);
    backoff = failed ? Math.min(60000, (backoff || 1000) * 2) : 0;
    if (failed || q.length) schedule(backoff);
  };
  const drain = () => {
    const now = Date.now(), q = load(), due = q.filter((e) => !(e.l > now)).slice(0, 50);
    if (!due.length) { if (q.length) schedule(LEASE); return; }
    due.forEach((e) => { e.l = now + LEASE; });
    save(q);
    post(due.map((e) => e.m), false);
  };

  // Web forms: a submission is the visitor raising a hand and, with an email
  // in it, saying who they are. Values of secret fields are never read.
  const SECRET = /pass|pwd|card|cvv|cvc|iban|secret|token|(^|[-_])cc([-_]|$)/i;
  const TRAITS = { email: /e-?mail/, first_name: /^(first[-_ ]?name|fname|given[-_]?name|nome)$/,
    last_name: /^(last[-_ ]?name|lname|surname|family[-_]?name|cognome)$/, phone: /phone|^tel|mobile|cellulare|telefono/ };
  const onSubmit = (event) => {
    const form = event.target;
    if (!form || form.nodeName !== "FORM" || form.hasAttribute("data-percorso-ignore")) return;
    try {
      const fields = [], traits = {};
      Array.from(form.elements).forEach((el) => {
        const name = el.getAttribute("name") || el.id, type = (el.type || "").toLowerCase();
        if (!name || el.disabled || !("value" in el) || el.nodeName === "OUTPUT" || el.hasAttribute("data-percorso-ignore")) return;
        if (/^(submit|button|reset|image|hidden)$/.test(type)) return;
        if (!(type === "checkbox" || type === "radio" ? el.checked : el.value !== "")) return;
        if (fields.indexOf(name) < 0) fields.push(name);
        if (type === "password" || SECRET.test(name) || /^cc-|password/.test(el.getAttribute("autocomplete") || "")) return;
        if (el.nodeName !== "INPUT" || /^(checkbox|radio|file)$/.test(type)) return;
        const key = name.toLowerCase().replace(/^.*\[([^\]]*)\]$/, "$1"), value = el.value.trim();
        Object.keys(TRAITS).forEach((trait) => {
          const match = TRAITS[trait].test(key) || (trait === "email" && type === "email") || (trait === "phone" && type === "tel");
          if (match && !traits[trait] && (trait !== "email" || value.indexOf("@") > 0)) traits[trait] = value;
        });
      });
      const formId = form.getAttribute("id") || form.getAttribute("name") ||
        new URL(form.getAttribute("action") || loc.href, loc.href).pathname;
      enqueue(message("track", { event: "form_submitted", properties: { form_id: formId, fields } }));
      if (traits.email) enqueue(message("identify", { traits }));
    } catch (e) { /* never stand between a visitor and the form they send */ }
    flush(true);
  };

  const api = {
    loaded: true,
    VERSION,
    track(event, properties) {
      if (typeof event !== "string" || !event.trim()) { console.warn("percorso.track needs an event name"); return; }
      enqueue(message("track", { event, properties: properties || {} }));
    },
    identify(id, traits) {
      if (id !== null && typeof id === "object") { traits = id; id = null; }
      if (id != null && String(id) !== "") { userId = String(id); put(local, "pc_uid", userId); }
      enqueue(message("identify", { traits: traits || {} }));
    },
    page(name, properties) {
      if (name !== null && typeof name === "object") { properties = name; name = null; }
      const fields = { properties: Object.assign(pageInfo(), properties) };
      if (name) fields.name = String(name);
      enqueue(message("page", fields));
    },
    reset() {
      userId = null; put(local, "pc_uid", null);
      anonymousId = newAnonymousId(true);
      visit = { campaign: {}, referrer: "" };
      put(session, "pc_visit", JSON.stringify(visit));
    },
    // A stub's queued calls are [method, ...args]; pushes after loading still work.
    push(call) { if (call && call[0] !== "push" && typeof api[call[0]] === "function") api[call[0]](...call.slice(1)); },
  };
  const queued = Array.isArray(stub) ? stub.slice() : [];
  w.percorso = api;
  if (attr("data-auto-page") !== "false") api.page();
  queued.forEach((call) => api.push(call));
  drain();
  w.addEventListener("pagehide", () => { leaving = true; flush(true); });
  w.addEventListener("pageshow", () => { leaving = false; });
  d.addEventListener("visibilitychange", () => { if (d.visibilityState === "hidden") flush(true); });
  // Capture phase: a site's handler that stops propagation does not hide the submission.
  d.addEventListener("submit", onSubmit, true);
})();
