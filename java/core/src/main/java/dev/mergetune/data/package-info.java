/**
 * Datasets for fine-tuning and evaluating CLIP models: a {@link dev.mergetune.data.Dataset} is a name, its class names
 * and a list of (image path, label) {@link dev.mergetune.data.Sample}s, immutable and validated. Image decoding is not
 * done here.
 *
 * <p>Sources: {@link dev.mergetune.data.ImageFolderSource} (torchvision's ImageFolder),
 * {@link dev.mergetune.data.CoopDatasets} (CoOp's layout and split files, the ImageNet variants),
 * {@link dev.mergetune.data.MtilDatasets} (the 11 MTIL datasets as ZSCL and ConDU read them through torchvision),
 * {@link dev.mergetune.data.CsvManifest} (a {@code path,label} CSV), and {@link dev.mergetune.data.DatasetConfig} (a
 * YAML description naming one of these).
 *
 * <p>Determinism: every source lists its samples in an order fixed by the files alone (names compared by code point,
 * as Python sorts), every random choice takes an explicit seed and uses a generator written out in this package
 * ({@link dev.mergetune.data.FewShotSampler} and the per-epoch shuffles of {@link dev.mergetune.data.EpochOrder}:
 * {@link dev.mergetune.data.SplitMix64}; the MTIL 80/20 splits: torch's Mersenne-Twister randperm, reproduced exactly),
 * so the same files and seed give the same datasets on every machine and JVM.
 */
package dev.mergetune.data;
