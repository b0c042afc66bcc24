// Checks for 03-loss's exercises.

/** Lesson's checks, by the names the notebook calls them. */
export const lossChecks = {};
