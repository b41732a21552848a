// Merged by @jupyter/builder into its rspack config (package.json "jupyterlab.webpackConfig").
//
// Module ids are named after paths relative to this folder, so the build is the same wherever
// the repository is checked out. With the default "deterministic" ids, the id of the module
// federation container entry changed with the absolute path of the checkout, and with it the
// remoteEntry file.
module.exports = {
  optimization: { moduleIds: 'named' }
};
