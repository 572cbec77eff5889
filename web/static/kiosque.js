/* Kiosque: small enhancements over pages that work without JavaScript.
   - search-as-you-type suggestions (ARIA 1.2 combobox with a listbox popup);
   - filters and sort order apply as soon as they change;
   - empty fields are left out of the URL;
   - the filters panel starts folded on phones. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var DEBOUNCE_MS = 120;
  var MIN_CHARS = 2;

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function submit(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function Combobox(input) {
    this.input = input;
    this.form = input.form;
    this.list = document.getElementById(input.getAttribute("aria-controls"));
    this.status = document.getElementById("q-status");
    this.url = input.getAttribute("data-suggest-url");
    this.template = input.getAttribute("data-status-template") || "{n}";
    this.options = [];
    this.active = -1;
    this.requested = null;
    this.controller = null;
    this.bind();
  }

  Combobox.prototype.bind = function () {
    var self = this;
    var later = debounce(function () { self.fetch(); }, DEBOUNCE_MS);
    this.input.addEventListener("input", later);
    this.input.addEventListener("keydown", function (event) { self.onKey(event); });
    this.input.addEventListener("blur", function () { self.close(); });
    this.list.addEventListener("mousedown", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) {
        event.preventDefault();
        self.choose(self.options.indexOf(option));
      }
    });
  };

  Combobox.prototype.fetch = function () {
    var self = this;
    var text = this.input.value;
    if (text === this.requested) { return; }
    this.requested = text;
    if (this.controller) { this.controller.abort(); }
    if (text.trim().length < MIN_CHARS || /\s$/.test(text)) {
      this.render([]);
      return;
    }
    this.controller = new AbortController();
    fetch(this.url + "?q=" + encodeURIComponent(text), {
      signal: this.controller.signal,
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : { suggestions: [] };
    }).then(function (data) {
      if (self.input.value === text) { self.render(data.suggestions || []); }
    }).catch(function () { /* aborted or offline: no suggestions */ });
  };

  Combobox.prototype.render = function (suggestions) {
    var self = this;
    this.list.textContent = "";
    this.options = suggestions.map(function (text, index) {
      var option = document.createElement("li");
      option.id = "q-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = text;
      self.list.appendChild(option);
      return option;
    });
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    if (this.options.length && document.activeElement === this.input) {
      this.open();
      this.status.textContent = this.template.replace("{n}", String(this.options.length));
    } else {
      this.close();
      this.status.textContent = "";
    }
  };

  Combobox.prototype.open = function () {
    if (!this.options.length) { return; }
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  Combobox.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.highlight(-1);
  };

  Combobox.prototype.isOpen = function () {
    return !this.list.hidden;
  };

  Combobox.prototype.highlight = function (index) {
    this.active = index;
    this.options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
      option.classList.toggle("active", i === index);
    });
    if (index >= 0) {
      this.input.setAttribute("aria-activedescendant", this.options[index].id);
      this.options[index].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  Combobox.prototype.move = function (step) {
    var count = this.options.length;
    if (!count) { return; }
    this.open();
    var next = this.active + step;
    if (this.active < 0 && step < 0) { next = count - 1; }
    this.highlight((next + count) % count);
  };

  Combobox.prototype.choose = function (index) {
    if (index < 0 || index >= this.options.length) { return; }
    this.input.value = this.options[index].textContent;
    this.requested = this.input.value;
    this.close();
    submit(this.form);
  };

  Combobox.prototype.onKey = function (event) {
    switch (event.key) {
      case "ArrowDown":
        if (this.options.length) { event.preventDefault(); this.move(1); }
        break;
      case "ArrowUp":
        if (this.options.length) { event.preventDefault(); this.move(-1); }
        break;
      case "Enter":
        if (this.isOpen() && this.active >= 0) {
          event.preventDefault();
          this.choose(this.active);
        }
        break;
      case "Escape":
        if (this.isOpen()) {
          event.preventDefault();
          this.close();
        }
        break;
      default:
        break;
    }
  };

  function autoSubmit() {
    document.querySelectorAll(".auto-submit").forEach(function (control) {
      control.addEventListener("change", function () {
        if (control.form) { submit(control.form); }
      });
    });
  }

  function dropEmptyFields(form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && field.value === "" && field.type !== "submit") {
          field.disabled = true;
        }
      });
    });
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
    });
  }

  function foldFiltersOnPhones() {
    var details = document.getElementById("filters-details");
    if (details && window.matchMedia("(max-width: 48rem)").matches) {
      details.open = false;
    }
  }

  function start() {
    var input = document.getElementById("q");
    if (input && input.form) {
      new Combobox(input);
      dropEmptyFields(input.form);
    }
    autoSubmit();
    foldFiltersOnPhones();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
