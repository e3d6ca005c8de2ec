// Filled in as the component grows.
