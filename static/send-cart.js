/*
 * Cart -> draft order, storefront side. Loaded by templates/snippet.liquid with
 * <script src="https://YOUR-APP/static/send-cart.js" defer>.
 *
 * Why it is written this way:
 * - It reads the cart from /cart.js at click time, because the data-cart
 *   attribute rendered with the page goes stale as soon as the shopper edits
 *   the cart without reloading; data-cart is only the fallback. The whole cart
 *   goes, so its currency and discount_codes too; the receiver takes what its
 *   settings carry and never a price.
 * - It posts the body as text/plain, a CORS "simple" request, so no OPTIONS
 *   preflight round trip is needed; the receiver checks the Origin header on
 *   every request and the customer id carries an HMAC signature, so nothing
 *   is lost by skipping the preflight.
 * - With data-proxy-path (the snippet's app proxy mode) it posts to the shop's
 *   own /apps/<subpath>/cart instead, same-origin with the shop's cookies:
 *   Shopify forwards it to the receiver with the signed-in customer signed, so
 *   the body carries no customer; the status URL it gets back is on the shop's
 *   origin too.
 * - Clicks are handled by delegation on the document, so buttons re-rendered
 *   by an AJAX cart drawer keep working, and several buttons can coexist.
 * - Every failure ends as a sentence for the shopper; nothing is thrown. The
 *   sentence names no setting or internal detail (the receiver's details are
 *   written for shoppers too); what a developer needs goes to the console.
 * - Lines the store left out of the draft order, or named in a failure, are
 *   shown by the titles of the cart that was sent: the server knows only
 *   their index in it.
 * - Once the draft order exists, the script keeps reading its status slowly
 *   (every 5 s, for 10 minutes, only while the page is visible, so a
 *   background tab costs the store nothing) while the draft is open, to say
 *   "Invoice sent to your email" and "Paid: order #1001" as they happen.
 *
 * - A guest's button (the snippet marks it data-guest-form) gets a contact form
 *   above it, drawn from GET /guest-form as the page loads: the fields the
 *   store asks for, a hidden honeypot, the CAPTCHA if one is set, and a form
 *   token that dates the page (a bot posting at once is refused). A field the
 *   receiver refuses gets its sentence beside it.
 *
 * Plain ES2017 in one IIFE; the only global is window.CartDraftOrder.
 */
(function () {
  "use strict";

  if (window.CartDraftOrder) {
    return; // Included twice: a second click listener would send the cart twice.
  }

  var SELECTOR = "#mechanic_cart_submit, [data-cart-draft-order]";
  var STATUS_ATTRIBUTE = "data-cart-draft-order-status";
  var WEBHOOK_PATH = "/webhooks/cart";
  var GUEST_FORM_PATH = "/guest-form";
  var POLL_EVERY_MS = 1000; // between plain polls, when the receiver does not wait
  var LONG_POLL_S = 10; // a status request may wait this long for news (< REQUEST_TIMEOUT_MS)
  var POLL_LIMIT_MS = 2 * 60 * 1000;
  var REQUEST_TIMEOUT_MS = 15000;
  var MAX_POLL_MISSES = 5; // consecutive unanswered polls before giving up
  var FOLLOW_EVERY_MS = 5000; // reading an existing draft's state: no hurry
  var FOLLOW_LIMIT_MS = 10 * 60 * 1000;
  // The draft states (app/states.py's DraftState, not final) in which news may still come.
  var DRAFT_STILL_OPEN = ["open", "invoice_sent"];
  // An event's settled statuses: app/states.py's EventStatus values, which
  // tests/test_event_status.py checks these are.
  var EVENT_STATUS = {completed: "completed", failed: "failed"};

  var DEFAULT_MESSAGES = {
    sending: "Sending your cart\u2026",
    success: "Your cart was sent: draft order {name}",
    invoiceSent: "Invoice sent to your email",
    paid: "Paid: order {order}",
    ordered: "Order {order} placed",
    error: "{reason}"
  };

  var REASONS = {
    network: "We couldn't reach the store's draft order service. " +
      "Please check your connection and try again.",
    timeout: "The store is taking longer than usual to prepare your draft order. " +
      "Please check back later or contact the store.",
    empty: "Your cart is empty.",
    unreadable: "Your cart couldn't be read. Please reload the page and try again.",
    signIn: "Please sign in to your account before sending your cart.",
    signature: "We couldn't confirm your customer account.",
    expired: "This page has been open too long; please reload it and try again.",
    tooLarge: "Your cart is too large to send.",
    invalid: "Your cart couldn't be sent.",
    failed: "Your cart was received, but the draft order couldn't be created.",
    server: "Something went wrong on the store's side. Please try again in a moment.",
    setup: "This button isn't working yet. Please contact the store."
  };

  // What a line object's code means to a shopper, after the product's title.
  var LINE_REASONS = {
    out_of_stock: "out of stock",
    not_available: "not available",
    variant_not_found: "no longer sold"
  };
  var LINE_REASON_OTHER = "not accepted";

  var busy = new WeakSet();
  var guestForms = new WeakMap(); // button -> its guest form (app/intake/contact.py's fields)
  var following = new WeakMap(); // status element -> the ticket of the draft it follows now
  var scriptBase = baseOfThisScript();

  function warn(message, detail) {
    if (window.console && console.warn) {
      console.warn("[cart-draft-order] " + message, detail === undefined ? "" : String(detail));
    }
  }

  /* The app's base URL, from this script's own src, for buttons without data-receiver-url. */
  function baseOfThisScript() {
    var script = document.currentScript;
    if (!script || !script.src) {
      return "";
    }
    return script.src.split(/[?#]/)[0].replace(/\/static\/send-cart\.js$/, "");
  }

  /* data-receiver-url may be the app's base URL or the full webhook URL. */
  function webhookUrl(button) {
    var raw = (button.getAttribute("data-receiver-url") || scriptBase || "").trim();
    if (!raw) {
      return null;
    }
    try {
      var url = new URL(raw, window.location.href);
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        return null;
      }
      var path = url.pathname.replace(/\/+$/, "");
      url.pathname = path.slice(-WEBHOOK_PATH.length) === WEBHOOK_PATH ? path : path + WEBHOOK_PATH;
      return url.href;
    } catch (error) {
      return null;
    }
  }

  /* The app proxy's cart URL on the shop's own origin, from data-proxy-path
   * ("/apps/send-cart"), or null: only a path on this origin will do. */
  function proxyUrl(button) {
    var path = (button.getAttribute("data-proxy-path") || "").trim().replace(/\/+$/, "");
    if (!/^\/[A-Za-z0-9_\-\/]+$/.test(path) || path.slice(0, 2) === "//") {
      return null;
    }
    return new URL(path + "/cart", window.location.href).href;
  }

  function message(button, kind, values) {
    var attribute = "data-message-" + kind.replace(/[A-Z]/g, function (letter) {
      return "-" + letter.toLowerCase();
    });
    var text = button.getAttribute(attribute) || DEFAULT_MESSAGES[kind];
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(values[key]);
    });
    return text;
  }

  /* The aria-live element that talks to the shopper: data-status-id, else the
   * [data-cart-draft-order-status] right after the button, else a new one. */
  function statusFor(button) {
    var id = button.getAttribute("data-status-id");
    var element = id ? document.getElementById(id) : null;
    var next = button.nextElementSibling;
    if (!element && next && next.hasAttribute(STATUS_ATTRIBUTE)) {
      element = next;
    }
    if (!element) {
      element = document.createElement("p");
      element.setAttribute(STATUS_ATTRIBUTE, "");
      button.insertAdjacentElement("afterend", element);
    }
    element.setAttribute("role", "status");
    element.setAttribute("aria-live", "polite");
    return element;
  }

  function say(status, state, text) {
    status.setAttribute("data-state", state);
    status.textContent = text;
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  /* fetch that never rejects: {status: 0} stands for "no answer" (offline,
   * refused, blocked by CORS, timed out); body is the parsed JSON or null. */
  async function call(url, init) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () {
      controller.abort();
    }, REQUEST_TIMEOUT_MS) : 0;
    try {
      var options = Object.assign({}, init, controller ? {signal: controller.signal} : {});
      var response = await fetch(url, options);
      var body = null;
      try {
        body = await response.json();
      } catch (error) {
        body = null;
      }
      return {status: response.status, ok: response.ok, body: body};
    } catch (error) {
      warn("no answer from " + url + ":", error);
      return {status: 0, ok: false, body: null};
    } finally {
      clearTimeout(timer);
    }
  }

  function Failure(reason, code, field) {
    this.reason = reason;
    this.code = code || null;
    this.field = field || null;
  }

  /* The title of the cart line a line object ({line, variant_id, code, detail})
   * names, as the shopper saw it in their cart. */
  function lineTitle(cart, lineObject) {
    var item = cart && Array.isArray(cart.items) ? cart.items[lineObject.line] : null;
    var title = item && (item.product_title || item.title);
    return typeof title === "string" && title ? title : "Item " + (Number(lineObject.line) + 1);
  }

  function lineReason(lineObject) {
    return LINE_REASONS[lineObject.code] || LINE_REASON_OTHER;
  }

  function lineObjects(list) {
    return Array.isArray(list) ? list.filter(function (lineObject) {
      return lineObject !== null && typeof lineObject === "object";
    }) : [];
  }

  /* "Not included: Mug, out of stock; Cap, not available." or "" */
  function droppedSentence(cart, dropped) {
    var parts = lineObjects(dropped).map(function (lineObject) {
      return lineTitle(cart, lineObject) + ", " + lineReason(lineObject);
    });
    return parts.length ? "Not included: " + parts.join("; ") + "." : "";
  }

  /* "Mug: Only 2 are in stock." for each line a failure names. */
  function failedLinesSentence(cart, lines) {
    return lineObjects(lines).map(function (lineObject) {
      var detail = typeof lineObject.detail === "string" && lineObject.detail.trim();
      return lineTitle(cart, lineObject) + ": " + (detail || lineReason(lineObject) + ".");
    }).join(" ");
  }

  /* A shopper's sentence for an HTTP answer or a failed event: a lead chosen by
   * status, followed by the server's own detail when it sent one, and the
   * cart lines it names. */
  function failureFrom(status, error, cart) {
    var code = error && typeof error.code === "string" ? error.code : null;
    var detail = error && typeof error.detail === "string" ? error.detail.trim() : "";
    var lead;
    if (code === "signature_expired") {
      return new Failure(REASONS.expired, code); // the server's detail says the same
    }
    if (code === "guest_cart_rejected") {
      lead = detail ? "" : REASONS.signIn;
    } else if (status === EVENT_STATUS.failed) {
      lead = REASONS.failed;
    } else if (status === 0) {
      return new Failure(REASONS.network, "network");
    } else if (status === 401) {
      lead = REASONS.signature;
    } else if (status === 413) {
      lead = REASONS.tooLarge;
    } else if (status === 400 || status === 415) {
      lead = REASONS.unreadable;
    } else if (status === 422) {
      lead = REASONS.invalid;
    } else {
      lead = REASONS.server;
    }
    var lines = error ? failedLinesSentence(cart, error.lines) : "";
    var field = error && typeof error.field === "string" ? error.field : null;
    var failure = new Failure([lead, detail, lines].filter(Boolean).join(" "), code, field);
    failure.detail = detail;
    return failure;
  }

  function parseAttribute(button, name) {
    var raw = button.getAttribute(name);
    if (raw === null || raw === "") {
      return null;
    }
    try {
      return JSON.parse(raw);
    } catch (error) {
      return raw; // a bare value, e.g. data-customer-id="207119551"
    }
  }

  function hasItems(cart) {
    return cart !== null && typeof cart === "object" && Array.isArray(cart.items);
  }

  /* The cart as it is now, from the storefront's /cart.js (same origin). */
  async function currentCart(button) {
    var routes = window.Shopify && window.Shopify.routes;
    var root = (routes && typeof routes.root === "string" && routes.root) || "/";
    var answer = await call(root.replace(/\/?$/, "/") + "cart.js", {
      credentials: "same-origin",
      cache: "no-store",
      headers: {Accept: "application/json"}
    });
    if (answer.ok && hasItems(answer.body)) {
      return answer.body;
    }
    warn("/cart.js did not answer with a cart; sending the cart rendered with the page, status",
      answer.status);
    var rendered = parseAttribute(button, "data-cart");
    return hasItems(rendered) ? rendered : null;
  }

  /* The completed event's status document (draft_order, dropped_lines). */
  /* The status URL asked to answer once its document is no longer `version`
   * (a long poll: app/intake/waiting.py), or after LONG_POLL_S seconds. */
  function longPollUrl(statusUrl, version) {
    return statusUrl + (statusUrl.indexOf("?") < 0 ? "?" : "&") + "wait=" + LONG_POLL_S +
      "&since=" + encodeURIComponent(version);
  }

  async function waitForDraftOrder(statusUrl, cart) {
    var deadline = Date.now() + POLL_LIMIT_MS;
    var misses = 0;
    var version = null; // the document's version, once the receiver told it
    for (;;) {
      var asked = Date.now();
      var answer = await call(version ? longPollUrl(statusUrl, version) : statusUrl,
        {credentials: "omit", cache: "no-store"});
      var doc = answer.body;
      if (answer.ok && doc && doc.status === EVENT_STATUS.completed && doc.draft_order) {
        return doc;
      }
      if (answer.ok && doc && doc.status === EVENT_STATUS.failed) {
        throw failureFrom(EVENT_STATUS.failed, doc.error, cart);
      }
      if (answer.status === 404) {
        throw failureFrom(404, doc && doc.error);
      }
      misses = answer.ok ? 0 : misses + 1;
      if (misses >= MAX_POLL_MISSES) {
        throw failureFrom(answer.status, doc && doc.error);
      }
      // A new version: ask again at once, waiting for the next. The same one
      // back at once: the receiver would not wait (busy, or too old to), so poll.
      var fresh = answer.ok && doc && typeof doc.version === "string" && doc.version !== version;
      var pause = fresh ? 0 : Math.max(0, POLL_EVERY_MS - (Date.now() - asked));
      version = answer.ok && doc && typeof doc.version === "string" ? doc.version : null;
      if (Date.now() + pause > deadline) {
        throw new Failure(REASONS.timeout, "timeout");
      }
      await sleep(pause);
    }
  }

  async function send(button, status) {
    var proxied = button.hasAttribute("data-proxy-path");
    var endpoint = proxied ? proxyUrl(button) : webhookUrl(button);
    if (!endpoint) {
      warn(proxied ? "data-proxy-path is not a path such as /apps/send-cart:"
        : "data-receiver-url (or this script's src) is missing or not an http(s) URL:",
        button.getAttribute(proxied ? "data-proxy-path" : "data-receiver-url"));
      throw new Failure(REASONS.setup, "setup");
    }
    var cart = await currentCart(button);
    if (!cart) {
      throw new Failure(REASONS.unreadable, "unreadable");
    }
    if (cart.items.length === 0) {
      throw new Failure(REASONS.empty, "empty");
    }
    // Through the app proxy, Shopify names the signed-in customer: the body does not.
    var submission = proxied ? {cart: cart} : {
      cart: cart,
      customerId: parseAttribute(button, "data-customer-id"),
      customerIdSignature: parseAttribute(button, "data-customer-id-signature")
    };
    // Only the snippet's timestamped form renders this; the Mechanic body stays as it was.
    if (button.hasAttribute("data-customer-id-signed-at")) {
      submission.customerIdSignedAt = parseAttribute(button, "data-customer-id-signed-at");
    }
    // Only a company contact's button has these (the snippet's B2B lines).
    if (button.hasAttribute("data-company-location-id")) {
      submission.companyId = parseAttribute(button, "data-company-id");
      submission.companyLocationId = parseAttribute(button, "data-company-location-id");
      if (!proxied) {
        submission.companyLocationSignature =
          parseAttribute(button, "data-company-location-signature");
      }
    }
    var guestForm = guestForms.get(button);
    if (isGuest(button)) {
      if (!guestForm || !guestForm.ready) {
        throw new Failure(REASONS.network, "guest_form");
      }
      submission.guest = guestValues(guestForm);
    }
    var answer = await call(endpoint, {
      method: "POST",
      mode: proxied ? "same-origin" : "cors",
      // The shop's session cookie is how Shopify knows the customer it signs for us.
      credentials: proxied ? "same-origin" : "omit",
      headers: {"Content-Type": "text/plain;charset=UTF-8"},
      body: JSON.stringify(submission)
    });
    var queued = answer.body;
    if (answer.status !== 202 || !queued || typeof queued.status_url !== "string") {
      throw failureFrom(answer.status, queued && queued.error);
    }
    say(status, "waiting", message(button, "sending"));
    var done = await waitForDraftOrder(queued.status_url, cart);
    return {draftOrder: done.draft_order, dropped: droppedSentence(cart, done.dropped_lines),
            droppedLines: lineObjects(done.dropped_lines), document: done,
            statusUrl: queued.status_url};
  }

  /* What became of the draft since, as a shopper's sentence, or "": paid or
   * placed as an order, else its invoice sent. */
  function followUpSentence(button, doc) {
    var order = doc.order;
    if (order && typeof order === "object") {
      var name = typeof order.name === "string" && order.name ? order.name : "";
      return message(button, order.paid === true ? "paid" : "ordered", {order: name}).trim();
    }
    var draftOrder = doc.draft_order;
    return draftOrder && draftOrder.invoice === "sent" ? message(button, "invoiceSent") : "";
  }

  function stillOpen(doc) {
    var draftOrder = doc && doc.draft_order;
    return !!draftOrder && DRAFT_STILL_OPEN.indexOf(draftOrder.state) !== -1 && !doc.order;
  }

  /* Resolves at once on a visible page, else once it becomes visible again. */
  function whenVisible() {
    if (document.visibilityState !== "hidden") {
      return Promise.resolve();
    }
    return new Promise(function (resolve) {
      document.addEventListener("visibilitychange", function shown() {
        if (document.visibilityState !== "hidden") {
          document.removeEventListener("visibilitychange", shown);
          resolve();
        }
      });
    });
  }

  /* Read the status URL slowly while the draft is open, and `show(doc)` each
   * news; ends when the draft is final, after FOLLOW_LIMIT_MS, or once the
   * status element follows another submission. */
  async function followDraft(status, statusUrl, doc, show) {
    var deadline = Date.now() + FOLLOW_LIMIT_MS;
    var ticket = {};
    following.set(status, ticket);
    while (stillOpen(doc)) {
      await sleep(FOLLOW_EVERY_MS);
      await whenVisible();
      if (following.get(status) !== ticket || Date.now() > deadline) {
        return;
      }
      var answer = await call(statusUrl, {credentials: "omit", cache: "no-store"});
      if (answer.status === 404) {
        return;
      }
      if (answer.ok && answer.body && answer.body.draft_order) {
        doc = answer.body;
        show(doc);
      }
    }
  }

  function invoiceUrl(draftOrder) {
    try {
      var url = new URL(draftOrder.invoice_url);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function announce(button, name, detail) {
    try {
      var event = new CustomEvent("cart-draft-order:" + name, {bubbles: true, detail: detail});
      button.dispatchEvent(event);
    } catch (error) {
      warn("a cart-draft-order:" + name + " listener failed:", error);
    }
  }

  async function submit(button) {
    if (busy.has(button)) {
      return;
    }
    busy.add(button);
    var wasDisabled = button.disabled === true;
    var leaving = false;
    var status = null;
    try {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      status = statusFor(button);
      say(status, "sending", message(button, "sending"));
      following.delete(status); // a new submission: the last one's news is stale
      clearGuestErrors(guestForms.get(button));
      var sent = await send(button, status);
      var draftOrder = sent.draftOrder;
      var name = String(draftOrder.name || draftOrder.id || "");
      var show = function (doc) {
        say(status, "success", [message(button, "success", {name: name}),
          followUpSentence(button, doc), sent.dropped].filter(Boolean).join(". "));
      };
      show(sent.document);
      announce(button, "success", {draftOrder: draftOrder, droppedLines: sent.droppedLines});
      var target = invoiceUrl(draftOrder);
      if (button.getAttribute("data-redirect-to-invoice") === "true" && target) {
        leaving = true;
        window.location.assign(target);
      } else {
        followDraft(status, sent.statusUrl, sent.document, function (doc) {
          show(doc);
          announce(button, "update", {draftOrder: doc.draft_order, order: doc.order || null});
        }).catch(function (error) {
          warn("following the draft order failed:", error);
        });
      }
    } catch (error) {
      var failure = error instanceof Failure ? error : new Failure(REASONS.server, "script");
      if (!(error instanceof Failure)) {
        warn("unexpected error:", error);
      }
      if (status) {
        say(status, "error", message(button, "error", {reason: failure.reason}));
      }
      showGuestError(guestForms.get(button), failure);
      announce(button, "error", {code: failure.code, reason: failure.reason});
    } finally {
      busy.delete(button);
      if (!leaving) {
        button.disabled = wasDisabled;
        button.removeAttribute("aria-busy");
      }
    }
  }

  /* --- A guest's contact form (GET /guest-form describes it). --- */

  /* A guest's button: the snippet marks it data-guest-form; an older snippet's
   * button says so by its data-customer-id of null, so it needs no re-paste. */
  function isGuest(button) {
    return button.hasAttribute("data-guest-form") || (button.hasAttribute("data-customer-id") &&
      parseAttribute(button, "data-customer-id") === null);
  }

  /* Behind the app proxy the form is asked of the shop's own origin too. */
  function guestFormUrl(button) {
    if (button.hasAttribute("data-proxy-path")) {
      var cart = proxyUrl(button);
      return cart ? cart.replace(/\/cart$/, GUEST_FORM_PATH) : null;
    }
    var endpoint = webhookUrl(button);
    return endpoint ? endpoint.slice(0, -WEBHOOK_PATH.length) + GUEST_FORM_PATH : null;
  }

  function element(tag, attributes, text) {
    var made = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      made.setAttribute(name, attributes[name]);
    });
    if (text) {
      made.textContent = text;
    }
    return made;
  }

  var INPUT_TYPES = {email: "email", phone: "tel"};
  var AUTOCOMPLETE = {email: "email", name: "name", phone: "tel", company: "organization"};
  var loadedScripts = {};

  function drawField(container, field, index) {
    var id = "cart-draft-order-guest-" + index + "-" + Math.random().toString(36).slice(2, 8);
    var row = element("p", {"data-guest-row": field.field});
    var label = element("label", {for: id}, field.label + (field.required ? " *" : ""));
    var input = field.name === "message" && !field.custom
      ? element("textarea", {rows: "3"})
      : element("input", {type: (!field.custom && INPUT_TYPES[field.name]) || "text"});
    input.id = id;
    input.setAttribute("data-guest-field", field.field);
    if (!field.custom && AUTOCOMPLETE[field.name]) {
      input.setAttribute("autocomplete", AUTOCOMPLETE[field.name]);
    }
    if (field.required) {
      input.setAttribute("aria-required", "true");
    }
    var error = element("span", {"data-guest-error": "", id: id + "-error", role: "alert"});
    input.setAttribute("aria-describedby", error.id);
    row.appendChild(label);
    row.appendChild(input);
    row.appendChild(error);
    container.appendChild(row);
    return {field: field, input: input, error: error};
  }

  /* The honeypot: a field people never see nor reach, which bots fill in. */
  function drawHoneypot(container, name) {
    var trap = element("div", {"aria-hidden": "true",
      style: "position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden"});
    var input = element("input", {type: "text", name: name, tabindex: "-1",
      autocomplete: "off", "data-guest-honeypot": ""});
    trap.appendChild(element("label", {}, "Leave this empty"));
    trap.appendChild(input);
    container.appendChild(trap);
    return input;
  }

  function drawCaptcha(container, widget) {
    container.appendChild(element("div", {"class": widget.widget_class,
      "data-sitekey": widget.site_key}));
    if (!loadedScripts[widget.script_url]) {
      loadedScripts[widget.script_url] = true;
      document.head.appendChild(element("script", {src: widget.script_url, async: "",
        defer: ""}));
    }
  }

  async function prepareGuestForm(button) {
    var state = {ready: false, inputs: [], honeypot: null, token: null, captcha: null,
      honeypotName: "website", container: null};
    guestForms.set(button, state);
    var url = guestFormUrl(button);
    var answer = url ? await call(url, {credentials: "omit", cache: "no-store"}) : {ok: false};
    var doc = answer.body;
    if (!answer.ok || !doc || !Array.isArray(doc.fields)) {
      warn("the guest form could not be read, status", answer.status);
      return;
    }
    var container = element("div", {"data-cart-draft-order-guest": ""});
    doc.fields.forEach(function (field, index) {
      state.inputs.push(drawField(container, field, index));
    });
    state.honeypotName = doc.honeypot || "website";
    state.honeypot = drawHoneypot(container, state.honeypotName);
    if (doc.captcha) {
      state.captcha = doc.captcha;
      drawCaptcha(container, doc.captcha);
    }
    state.token = doc.form_token;
    state.container = container;
    button.insertAdjacentElement("beforebegin", container);
    state.ready = true;
  }

  function guestValues(state) {
    var guest = {custom: {}, form_token: state.token};
    state.inputs.forEach(function (drawn) {
      var value = drawn.input.value;
      if (drawn.field.custom) {
        guest.custom[drawn.field.name] = value;
      } else {
        guest[drawn.field.name] = value;
      }
    });
    guest[state.honeypotName] = state.honeypot ? state.honeypot.value : "";
    if (state.captcha) {
      var response = state.container.querySelector(
        "[name='" + state.captcha.response_field + "']");
      guest.captcha_token = response ? response.value : "";
    }
    return guest;
  }

  function clearGuestErrors(state) {
    if (!state) {
      return;
    }
    state.inputs.forEach(function (drawn) {
      drawn.error.textContent = "";
      drawn.input.removeAttribute("aria-invalid");
    });
  }

  /* The receiver's sentence beside the field it names (error.field), and a
   * fresh CAPTCHA after any refusal that may have used its token up. */
  function showGuestError(state, failure) {
    if (!state) {
      return;
    }
    state.inputs.forEach(function (drawn) {
      if (failure.field && drawn.field.field === failure.field) {
        drawn.error.textContent = failure.detail || failure.reason;
        drawn.input.setAttribute("aria-invalid", "true");
        drawn.input.focus();
      }
    });
    var provider = state.captcha && window[{turnstile: "turnstile", hcaptcha: "hcaptcha",
      recaptcha: "grecaptcha"}[state.captcha.provider]];
    if (provider && typeof provider.reset === "function" && failure.code !== "invalid_contact") {
      try {
        provider.reset();
      } catch (error) {
        warn("could not reset the CAPTCHA:", error);
      }
    }
  }

  function onClick(event) {
    var target = event.target;
    var button = target && target.closest ? target.closest(SELECTOR) : null;
    if (!button) {
      return;
    }
    event.preventDefault(); // the button may sit inside the cart's <form>
    submit(button);
  }

  /* Live regions must exist before they change to be announced, so make them now. */
  function prepareStatusElements() {
    Array.prototype.forEach.call(document.querySelectorAll(SELECTOR), function (button) {
      try {
        statusFor(button);
      } catch (error) {
        warn("could not add a status element:", error);
      }
      if (isGuest(button) && !guestForms.has(button)) {
        prepareGuestForm(button).catch(function (error) {
          warn("could not draw the guest form:", error);
        });
      }
    });
  }

  document.addEventListener("click", onClick);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", prepareStatusElements);
  } else {
    prepareStatusElements();
  }

  window.CartDraftOrder = Object.freeze({
    /* Send the cart as if `element` (a button with the data- attributes) was clicked. */
    send: function (element) {
      return submit(element);
    }
  });
})();
