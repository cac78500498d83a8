package dev.mergetune.cli;

/**
 * A command that loads the native stack only as far as it needs it: the tool gives it
 * {@link dev.mergetune.kernels.NativeRuntime#configureOnLoad} instead of loading LibTorch for it up front
 * ({@link dev.mergetune.kernels.NativeRuntime#configure}). Such a command calls
 * {@link dev.mergetune.kernels.NativeRuntime#ensureLoaded()} itself before any path that may use a torch class
 * without loading it first.
 */
interface NativeOnDemand {}
