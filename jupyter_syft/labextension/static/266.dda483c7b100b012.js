"use strict";(self.rspackChunkjupyter_syft_panel=self.rspackChunkjupyter_syft_panel||[]).push([[266],{"./node_modules/css-loader/dist/cjs.js!./style/index.css"(e,t,o){var r=o("./node_modules/css-loader/dist/runtime/noSourceMaps.js"),a=o.n(r),n=o("./node_modules/css-loader/dist/runtime/api.js"),s=(o.n(n))()(a());s.push([e.id,`/* The "Syft" side panel. Only JupyterLab's CSS variables, so light and dark themes both work. */

.jsyft-panel {
  display: flex;
  flex-direction: column;
  min-width: 220px;
  overflow: auto;
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  font-family: var(--jp-code-font-family);
  font-size: 11px;
  line-height: 1.45;
}

.jsyft-panel-header {
  flex: 0 0 auto;
  padding: 6px 8px 5px;
  border-bottom: var(--jp-border-width) solid var(--jp-border-color2);
  font-family: var(--jp-ui-font-family);
}

.jsyft-panel-title {
  font-size: var(--jp-ui-font-size1);
  font-weight: 600;
  letter-spacing: 0.04em;
  text-transform: uppercase;
}

.jsyft-panel-status {
  color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size1);
  overflow-wrap: anywhere;
}

.jsyft-panel-status:empty {
  display: none;
}

.jsyft-panel-body {
  flex: 1 1 auto;
  padding: 0 8px 8px;
}

.jsyft-panel-heading {
  margin: 10px 0 4px;
  color: var(--jp-ui-font-color2);
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size0);
  font-weight: 600;
  letter-spacing: 0.06em;
  text-transform: uppercase;
}

.jsyft-panel-muted {
  color: var(--jp-ui-font-color2);
}

.jsyft-panel-worker {
  margin-bottom: 8px;
}

.jsyft-panel-worker-name,
.jsyft-panel-pointer-name {
  font-weight: 700;
}

.jsyft-panel-gone {
  color: var(--jp-error-color1);
}

/* A network worker: its objects live in a server process. */
.jsyft-panel-worker-network {
  padding-left: 6px;
  border-left: 2px dashed var(--jp-border-color1);
}

.jsyft-panel-network {
  color: var(--jp-ui-font-color2);
  overflow-wrap: anywhere;
}

.jsyft-panel-unreachable {
  color: var(--jp-error-color1);
  overflow-wrap: anywhere;
}

.jsyft-panel-object-private .jsyft-value {
  color: var(--jp-warn-color1);
}

.jsyft-panel-object-owner .jsyft-value {
  color: var(--jp-ui-font-color2);
  font-style: italic;
}

.jsyft-panel-more {
  margin-top: 2px;
}

/* Objects: a table, one row per object. */
.jsyft-panel-body {
  container-type: inline-size;
}

.jsyft-panel-objects {
  width: 100%;
  margin-top: 2px;
  border-collapse: collapse;
}

.jsyft-panel-objects th,
.jsyft-panel-objects td {
  padding: 1px 4px;
  border: var(--jp-border-width) solid var(--jp-border-color2);
  text-align: left;
  vertical-align: top;
  white-space: nowrap;
}

.jsyft-panel-objects th {
  background: var(--jp-layout-color2);
  color: var(--jp-ui-font-color2);
  font-weight: 600;
}

.jsyft-panel-objects td.jsyft-id {
  color: var(--jp-ui-font-color2);
}

.jsyft-panel-objects td.jsyft-value {
  width: 100%;
  white-space: normal;
  overflow-wrap: anywhere;
}

.jsyft-panel-objects tbody tr:hover {
  background: var(--jp-layout-color2);
}

/* In a narrow sidebar each row takes two lines: id, dtype, shape, ∇; then the value. The
   columns are sized in ch (the font is monospace, ids have at most 11 digits, the 8px are the
   cell padding), so the rows align. */
@container (max-width: 459px) {
  .jsyft-panel-objects,
  .jsyft-panel-objects thead,
  .jsyft-panel-objects tbody {
    display: block;
  }

  .jsyft-panel-objects {
    border: var(--jp-border-width) solid var(--jp-border-color2);
  }

  .jsyft-panel-objects tr {
    display: grid;
    grid-template-columns: calc(11ch + 10px) calc(8ch + 8px) 1fr calc(3ch + 8px);
  }

  .jsyft-panel-objects tbody tr {
    border-top: var(--jp-border-width) solid var(--jp-border-color2);
  }

  .jsyft-panel-objects th,
  .jsyft-panel-objects td {
    border: none;
    overflow: hidden;
    text-overflow: ellipsis;
  }

  .jsyft-panel-objects th.jsyft-head-value {
    display: none;
  }

  .jsyft-panel-objects td.jsyft-value {
    grid-column: 1 / -1;
    width: auto;
    padding-left: 2ch;
    overflow: visible;
  }
}

/* Variables: each one, then one line per hop of the chain it leads along. */
.jsyft-panel-variables {
  margin: 0;
  padding: 0;
  list-style: none;
}

.jsyft-panel-variable {
  padding: 2px 0 3px;
  overflow-wrap: anywhere;
}

.jsyft-panel-variable + .jsyft-panel-variable {
  border-top: var(--jp-border-width) dashed var(--jp-border-color3);
}

.jsyft-panel-variable-name,
.jsyft-panel-hop-worker,
.jsyft-panel-group-name {
  font-weight: 700;
}

.jsyft-panel-hop {
  padding-left: 4ch;
  text-indent: -2ch;
}

.jsyft-panel-hop + .jsyft-panel-hop {
  padding-left: 6ch; /* each hop one step further, like an arrow continuing */
}

.jsyft-panel-arrow {
  color: var(--jp-brand-color1);
  font-weight: 700;
}

.jsyft-panel-hop-note {
  color: var(--jp-ui-font-color1);
}

.jsyft-panel-hop-pointer .jsyft-panel-hop-note,
.jsyft-panel-hop-group .jsyft-panel-hop-note {
  color: var(--jp-ui-font-color2);
  font-style: italic;
}

.jsyft-panel-hop-missing .jsyft-panel-hop-note {
  color: var(--jp-error-color1);
}

/* A fetched or deleted pointer's target is no longer on the worker: strike it through. */
.jsyft-panel-hop-done .jsyft-panel-hop-target {
  color: var(--jp-ui-font-color2);
  text-decoration: line-through;
}

.jsyft-panel-hop-done .jsyft-panel-arrow {
  color: var(--jp-ui-font-color2);
}

/* Workers: traffic under the title; a remote model's tensors boxed together. */
.jsyft-panel-traffic {
  color: var(--jp-ui-font-color2);
  font-size: 10px;
  margin-bottom: 2px;
}

.jsyft-panel-traffic-ok {
  color: var(--jp-success-color1);
}

.jsyft-panel-traffic-warn {
  color: var(--jp-warn-color1);
}

.jsyft-panel-group {
  margin: 3px 0 4px;
  padding: 2px 4px 4px;
  border: var(--jp-border-width) solid var(--jp-border-color1);
  border-radius: 3px;
  background: var(--jp-layout-color2);
}

.jsyft-panel-group .jsyft-panel-objects {
  background: var(--jp-layout-color1);
}

.jsyft-panel-objects td.jsyft-param {
  color: var(--jp-ui-font-color1);
  font-weight: 700;
}

.jsyft-panel-object-pointer td.jsyft-value {
  color: var(--jp-ui-font-color2);
  font-style: italic;
}

.jsyft-panel-status code {
  font-family: var(--jp-code-font-family);
  color: var(--jp-ui-font-color1);
}

.jsyft-state-live {
  color: var(--jp-success-color1);
}

.jsyft-state-fetched {
  color: var(--jp-warn-color1);
}

.jsyft-state-deleted {
  color: var(--jp-error-color1);
}

/* Plans and protocols: the dashboard's purple (a fixed colour: the themes have no such role). */
.jsyft-panel-objects td.jsyft-kind {
  color: #8e24aa;
  font-weight: 700;
}

.jsyft-panel-objects td.jsyft-plan-name {
  font-weight: 700;
}

/* A protocol's steps, in the order they run: a numbered line per plan. */
.jsyft-panel-step {
  padding-left: 2ch;
}

.jsyft-panel-step-number {
  display: inline-block;
  min-width: 1.6em;
  border-radius: 0.8em;
  background: #8e24aa;
  color: #fff;
  font-size: 9px;
  font-weight: 700;
  line-height: 1.6em;
  text-align: center;
}

.jsyft-panel-step-fictive .jsyft-panel-hop-worker,
.jsyft-panel-step-fictive .jsyft-panel-step-number {
  font-style: italic;
}

.jsyft-panel-step-fictive .jsyft-panel-step-number {
  background: var(--jp-ui-font-color2);
}

.jsyft-panel-step-end {
  color: var(--jp-error-color1);
}

/* Secret sharing: the dashboard's teal for shared values and their shares, orange for what a
   crypto provider dealt (fixed colours: the themes have no such roles). */
.jsyft-panel-badge {
  display: inline-block;
  padding: 0 4px;
  border-radius: 3px;
  font-size: 10px;
  white-space: nowrap;
}

.jsyft-panel-badge-share {
  background: #e0f2f1;
  color: #00695c;
}

.jsyft-panel-badge-dealt {
  background: #fff3e0;
  color: #e65100;
}

.jsyft-panel-hint {
  color: var(--jp-ui-font-color2);
  font-style: italic;
  white-space: nowrap;
}

.jsyft-panel-object-share td.jsyft-value,
.jsyft-panel-object-dealt td.jsyft-value {
  color: var(--jp-ui-font-color2);
}

.jsyft-panel-secret-name {
  color: #00897b;
  font-weight: 700;
}

/* A shared value's shares are side by side, not a chain: every hop at the same depth. */
.jsyft-panel-secret .jsyft-panel-hop + .jsyft-panel-hop {
  padding-left: 4ch;
}

.jsyft-panel-hop-share .jsyft-panel-arrow {
  color: #00897b;
}

.jsyft-panel-hop-share .jsyft-panel-hop-note {
  color: var(--jp-ui-font-color2);
}

.jsyft-panel-dealer {
  margin: 1px 0 2px;
  padding: 0 4px;
  border-left: 3px solid #ef6c00;
}

.jsyft-panel-dealer-role {
  color: #e65100;
  font-weight: 700;
}

.jsyft-panel-dealer-fresh {
  animation: jsyft-panel-dealt 1.5s ease-out;
}

@keyframes jsyft-panel-dealt {
  from {
    background: #ffcc80;
  }

  to {
    background: transparent;
  }
}
`,""]),o.d(t,{},{A:s})},"./node_modules/css-loader/dist/runtime/api.js"(e){e.exports=function(e){var t=[];return t.toString=function(){return this.map(function(t){var o="",r=void 0!==t[5];return t[4]&&(o+="@supports (".concat(t[4],") {")),t[2]&&(o+="@media ".concat(t[2]," {")),r&&(o+="@layer".concat(t[5].length>0?" ".concat(t[5]):""," {")),o+=e(t),r&&(o+="}"),t[2]&&(o+="}"),t[4]&&(o+="}"),o}).join("")},t.i=function(e,o,r,a,n){"string"==typeof e&&(e=[[null,e,void 0]]);var s={};if(r)for(var l=0;l<this.length;l++){var p=this[l][0];null!=p&&(s[p]=!0)}for(var i=0;i<e.length;i++){var c=[].concat(e[i]);r&&s[c[0]]||(void 0!==n&&(void 0===c[5]||(c[1]="@layer".concat(c[5].length>0?" ".concat(c[5]):""," {").concat(c[1],"}")),c[5]=n),o&&(c[2]&&(c[1]="@media ".concat(c[2]," {").concat(c[1],"}")),c[2]=o),a&&(c[4]?(c[1]="@supports (".concat(c[4],") {").concat(c[1],"}"),c[4]=a):c[4]="".concat(a)),t.push(c))}},t}},"./node_modules/css-loader/dist/runtime/noSourceMaps.js"(e){e.exports=function(e){return e[1]}},"./style/index.css"(e,t,o){o.r(t);var r=o("./node_modules/style-loader/dist/runtime/injectStylesIntoStyleTag.js"),a=o.n(r),n=o("./node_modules/style-loader/dist/runtime/styleDomAPI.js"),s=o.n(n),l=o("./node_modules/style-loader/dist/runtime/insertBySelector.js"),p=o.n(l),i=o("./node_modules/style-loader/dist/runtime/setAttributesWithoutAttributes.js"),c=o.n(i),d=o("./node_modules/style-loader/dist/runtime/insertStyleElement.js"),f=o.n(d),j=o("./node_modules/style-loader/dist/runtime/styleTagTransform.js"),u=o.n(j),y=o("./node_modules/css-loader/dist/cjs.js!./style/index.css"),h={};h.styleTagTransform=u(),h.setAttributes=c(),h.insert=p().bind(null,"head"),h.domAPI=s(),h.insertStyleElement=f(),a()(y.A,h);let v=y.A&&y.A.locals?y.A.locals:void 0;o.d(t,{},{default:v})},"./node_modules/style-loader/dist/runtime/injectStylesIntoStyleTag.js"(e){var t=[];function o(e){for(var o=-1,r=0;r<t.length;r++)if(t[r].identifier===e){o=r;break}return o}function r(e,r){for(var a={},n=[],s=0;s<e.length;s++){var l=e[s],p=r.base?l[0]+r.base:l[0],i=a[p]||0,c="".concat(p," ").concat(i);a[p]=i+1;var d=o(c),f={css:l[1],media:l[2],sourceMap:l[3],supports:l[4],layer:l[5]};if(-1!==d)t[d].references++,t[d].updater(f);else{var j=function(e,t){var o=t.domAPI(t);return o.update(e),function(t){t?(t.css!==e.css||t.media!==e.media||t.sourceMap!==e.sourceMap||t.supports!==e.supports||t.layer!==e.layer)&&o.update(e=t):o.remove()}}(f,r);r.byIndex=s,t.splice(s,0,{identifier:c,updater:j,references:1})}n.push(c)}return n}e.exports=function(e,a){var n=r(e=e||[],a=a||{});return function(e){e=e||[];for(var s=0;s<n.length;s++){var l=o(n[s]);t[l].references--}for(var p=r(e,a),i=0;i<n.length;i++){var c=o(n[i]);0===t[c].references&&(t[c].updater(),t.splice(c,1))}n=p}}},"./node_modules/style-loader/dist/runtime/insertBySelector.js"(e){var t={};e.exports=function(e,o){var r=function(e){if(void 0===t[e]){var o=document.querySelector(e);if(window.HTMLIFrameElement&&o instanceof window.HTMLIFrameElement)try{o=o.contentDocument.head}catch(e){o=null}t[e]=o}return t[e]}(e);if(!r)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");r.appendChild(o)}},"./node_modules/style-loader/dist/runtime/insertStyleElement.js"(e){e.exports=function(e){var t=document.createElement("style");return e.setAttributes(t,e.attributes),e.insert(t,e.options),t}},"./node_modules/style-loader/dist/runtime/setAttributesWithoutAttributes.js"(e,t,o){e.exports=function(e){var t=o.nc;t&&e.setAttribute("nonce",t)}},"./node_modules/style-loader/dist/runtime/styleDomAPI.js"(e){e.exports=function(e){if("u"<typeof document)return{update:function(){},remove:function(){}};var t=e.insertStyleElement(e);return{update:function(o){var r,a,n;r="",o.supports&&(r+="@supports (".concat(o.supports,") {")),o.media&&(r+="@media ".concat(o.media," {")),(a=void 0!==o.layer)&&(r+="@layer".concat(o.layer.length>0?" ".concat(o.layer):""," {")),r+=o.css,a&&(r+="}"),o.media&&(r+="}"),o.supports&&(r+="}"),(n=o.sourceMap)&&"u">typeof btoa&&(r+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(n))))," */")),e.styleTagTransform(r,t,e.options)},remove:function(){var e;null===(e=t).parentNode||e.parentNode.removeChild(e)}}}},"./node_modules/style-loader/dist/runtime/styleTagTransform.js"(e){e.exports=function(e,t){if(t.styleSheet)t.styleSheet.cssText=e;else{for(;t.firstChild;)t.removeChild(t.firstChild);t.appendChild(document.createTextNode(e))}}}}]);