/** Progress reporting without a UI dependency: the library reports, the application (or the CLI) draws. */
package dev.mergetune.progress;
