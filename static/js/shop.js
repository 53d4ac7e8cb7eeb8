/* The product page's variant choice, as a progressive enhancement.
   Without scripts the page offers one <select> of the existing variants and a button that
   reloads the page for the chosen one. With this script each option gets its own <select>,
   chosen in order: a value that makes no existing variant with the choices of the options
   before it is disabled (a later option follows an earlier one's change), and the price,
   compare-at price, stock state and SKU follow the choice without a reload. The variants
   come from the form's data-variants attribute (rendered by the server). The "Add to cart"
   form posts the variant in its hidden data-cart-variant field: the page's variant without
   scripts, the chosen one with them. */
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

    function nameOf(select) { return select.getAttribute("data-option"); }

    // The choices of the options before the one at ``index``.
    function before(index) {
      var choices = {};
      for (var i = 0; i < index; i++) choices[nameOf(optionSelects[i])] = optionSelects[i].value;
      return choices;
    }

    function possible(index, value) {
      var wanted = before(index);
      wanted[nameOf(optionSelects[index])] = value;
      return !!find(wanted);
    }

    // Options are chosen in order: a value is possible when some variant has it together
    // with the choices of the options before it (the first option's values always are).
    function disableImpossible() {
      optionSelects.forEach(function (select, index) {
        Array.prototype.forEach.call(select.options, function (option) {
          option.disabled = !possible(index, option.value);
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
      var cartVariant = offer.querySelector("[data-cart-variant]");
      if (cartVariant) cartVariant.value = variant.id;
      var url = new URL(window.location.href);
      url.searchParams.set("variant", variant.id);
      window.history.replaceState(null, "", url.toString());
    }

    function onChange(event) {
      // The options after the changed one keep their value where it is still possible, else
      // take their first possible one.
      var changed = optionSelects.indexOf(event.target);
      for (var i = changed + 1; i < optionSelects.length; i++) {
        var select = optionSelects[i];
        if (possible(i, select.value)) continue;
        for (var j = 0; j < select.options.length; j++) {
          if (possible(i, select.options[j].value)) { select.value = select.options[j].value; break; }
        }
      }
      disableImpossible();
      var variant = find(before(optionSelects.length));
      if (variant) show(variant);
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
