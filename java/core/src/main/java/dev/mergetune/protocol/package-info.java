/**
 * Evaluation protocols (methods.md §2.5 and §4) over any {@link dev.mergetune.protocol.Classifier}: base-to-novel,
 * cross-dataset, domain generalisation and MTIL ({@link dev.mergetune.protocol.Protocols}, configured by
 * {@link dev.mergetune.protocol.ProtocolConfig}), the zero-shot CLIP classifier
 * ({@link dev.mergetune.protocol.ZeroShotClip}) and the loss/accuracy along an interpolation path between two CLIP
 * models ({@link dev.mergetune.protocol.InterpolationPath}). Results go into {@link dev.mergetune.eval.Report}s.
 */
package dev.mergetune.protocol;
