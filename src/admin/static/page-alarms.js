// Placeholder page.
export default { badge() {}, refresh() {} };
