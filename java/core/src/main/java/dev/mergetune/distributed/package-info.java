/**
 * Data-parallel training on PyTorch's c10d engine through the JavaCPP preset — no communication layer of our own.
 *
 * <ul>
 *   <li>{@link dev.mergetune.distributed.ProcessGroupContext}: a rank's collectives and rank-0 actions;
 *       {@link dev.mergetune.distributed.C10dProcessGroup} joins a job (TCPStore rendezvous, ProcessGroupGloo or
 *       ProcessGroupNCCL) from a {@link dev.mergetune.distributed.DistributedConfig} (torchrun's variables);
 *   <li>{@link dev.mergetune.distributed.DataParallel}: the seam {@code TrainingLoop} consults — batch shards
 *       ({@link dev.mergetune.distributed.DistributedSampler}), gradient averaging overlapped with backward by c10d's
 *       Reducer or after it, rank 0's state broadcast, sharded validation;
 *   <li>{@link dev.mergetune.distributed.ShardedFeatures}: frozen-encoder features computed by all ranks and gathered;
 *   <li>failures name the rank ({@link dev.mergetune.distributed.WorkerFailedException}, heartbeats in the store).
 * </ul>
 *
 * What the preset's c10d does from Java, and what it does not, is in {@code java/core/NOTES-distributed.md}.
 */
package dev.mergetune.distributed;
