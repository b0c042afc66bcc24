// Checks for 05-state-initialization's exercises.

/** Lesson's checks, by the names the notebook calls them. */
export const stateChecks = {};
