/* The product page's variant choice, as a progressive enhancement.
   Without scripts the page offers one <select> of the existing variants and a button that
   reloads the page for the chosen one. With this script each option gets its own <select>;
   values that make no existing variant with the other choices are disabled, and the price,
   compare-at price, stock state and SKU follow the choice without a reload. The variants
   come from the form's data-variants attribute (rendered by the server). */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  ready(function () {
    var form = document.querySelector("form[data-variants]");
    if (!form) return;
    var variants;
    try { variants = JSON.parse(form.getAttribute("data-variants")); } catch (e) { return; }
    var offer = form.closest("[data-product-offer]");
    var variantSelect = form.querySelector("select[name=variant]");
    var optionSelects = Array.prototype.slice.call(form.querySelectorAll("select[data-option]"));
    if (!offer || !variantSelect || !optionSelects.length) return;

    function find(choices) {
      for (var i = 0; i < variants.length; i++) {
        var match = true;
        for (var name in choices) {
          if (variants[i].options[name] !== choices[name]) { match = false; break; }
        }
        if (match) return variants[i];
      }
      return null;
    }

    function chosen(except) {
      var choices = {};
      optionSelects.forEach(function (select) {
        if (select !== except) choices[select.getAttribute("data-option")] = select.value;
      });
      return choices;
    }

    // A value is possible when some variant has it together with the other options' choices.
    function disableImpossible() {
      optionSelects.forEach(function (select) {
        var others = chosen(select);
        Array.prototype.forEach.call(select.options, function (option) {
          var wanted = Object.assign({}, others);
          wanted[select.getAttribute("data-option")] = option.value;
          option.disabled = !find(wanted);
        });
      });
    }

    function show(variant) {
      var price = offer.querySelector("[data-price]");
      var missing = offer.querySelector("[data-price-missing]");
      var compareWrap = offer.querySelector("[data-compare-at-wrap]");
      var compare = offer.querySelector("[data-compare-at]");
      var stock = offer.querySelector("[data-stock]");
      var sku = offer.querySelector("[data-sku]");
      price.textContent = variant.price || "";
      price.hidden = !variant.price;
      missing.hidden = !!variant.price;
      compare.textContent = variant.compare_at || "";
      compareWrap.hidden = !variant.compare_at;
      stock.textContent = variant.stock_label;
      stock.className = "stock stock--" + variant.stock;
      if (sku) sku.textContent = variant.sku;
      variantSelect.value = variant.id;
      var url = new URL(window.location.href);
      url.searchParams.set("variant", variant.id);
      window.history.replaceState(null, "", url.toString());
    }

    function onChange(event) {
      var choices = chosen(null);
      var variant = find(choices);
      if (!variant) {
        // The changed value rules out the others' choices: keep it, take the first variant
        // that has it.
        var name = event.target.getAttribute("data-option");
        var wanted = {};
        wanted[name] = event.target.value;
        variant = find(wanted);
        if (!variant) return;
        optionSelects.forEach(function (select) {
          select.value = variant.options[select.getAttribute("data-option")];
        });
      }
      disableImpossible();
      show(variant);
    }

    optionSelects.forEach(function (select) {
      select.closest("[data-option-field]").hidden = false;
      select.addEventListener("change", onChange);
    });
    var variantField = form.querySelector("[data-variant-field]");
    if (variantField) variantField.hidden = true;
    disableImpossible();
  });
})();
