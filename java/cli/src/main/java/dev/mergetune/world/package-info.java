/**
 * A procedural image–text world and a tiny CLIP pre-trained on it, so that every method of the project can be run
 * and seen to work without downloaded weights or datasets.
 *
 * <ul>
 *   <li>{@link dev.mergetune.world.WorldGenerator} writes a world from a {@link dev.mergetune.world.WorldSpec}
 *       (byte-identical for a seed): pre-training (image, caption) pairs that hold out some shape × colour
 *       combinations, downstream image folders with their own label spaces and base/novel classes, domain-shifted
 *       test sets, an MTIL-like task sequence, its own BPE vocabulary ({@link dev.mergetune.world.WorldVocabulary})
 *       and {@code world.json}, read back by {@link dev.mergetune.world.World}.
 *   <li>{@link dev.mergetune.world.Pretraining} trains a tiny CLIP with
 *       {@link dev.mergetune.world.ContrastivePretraining} (symmetric contrastive loss, learnable temperature) over
 *       the project's {@link dev.mergetune.train.TrainingLoop}; {@link dev.mergetune.world.WorldZeroShot} reports its
 *       zero-shot accuracy on seen and held-out combinations.
 * </ul>
 */
package dev.mergetune.world;
