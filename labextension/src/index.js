// The "Syft" side panel: a JupyterLab 4 / Notebook 7 plugin that puts a SyftPanel in the right
// sidebar. The panel follows the active notebook; see panel.js.
import { ILayoutRestorer } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { SyftPanel } from './panel';

// Three workers linked together; `jp-icon3` lets the theme pick the colour.
const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">
  <g class="jp-icon3" fill="#616161">
    <circle cx="8" cy="3.5" r="2.5"/>
    <circle cx="3" cy="12.5" r="2.5"/>
    <circle cx="13" cy="12.5" r="2.5"/>
    <path d="M7.3 5.5 3.9 10.6l.9.6 3.2-4.9 3.2 4.9.9-.6-3.4-5.1zM5.5 12h5v1h-5z"/>
  </g>
</svg>`;

export const syftIcon = new LabIcon({ name: 'jupyter-syft:icon', svgstr: ICON_SVG });

const plugin = {
  id: 'jupyter-syft-panel:plugin',
  description: 'A "Syft" side panel: the workers, objects and pointers of the active notebook.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer],
  activate: (app, tracker, restorer) => {
    const panel = new SyftPanel(tracker, syftIcon);
    // `rank` puts it below the panels that JupyterLab and Notebook 7 add there themselves.
    app.shell.add(panel, 'right', { rank: 1000 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }
  }
};

export default plugin;
