// Checks for 04-gradient-clipping's exercises.

/** Lesson's checks, by the names the notebook calls them. */
export const clippingChecks = {};
