// Checks for 06-prediction's exercises.

/** Lesson's checks, by the names the notebook calls them. */
export const predictionChecks = {};
