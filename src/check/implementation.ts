// Checks for 07-implementation's exercises.

/** Lesson's checks, by the names the notebook calls them. */
export const implementationChecks = {};
