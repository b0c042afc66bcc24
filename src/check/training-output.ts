// Checks for 02-training-output's exercises.

/** Lesson's checks, by the names the notebook calls them. */
export const trainingOutputChecks = {};
