package dev.mergetune.tensors;

import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * What a reader took out of a PyTorch file: its tensors by name, in state-dict order, as LibTorch gave them (any
 * device, layout or strides); the names of the trainable parameters where the format records them (null where it
 * does not); and metadata describing where the tensors came from.
 */
record TorchTensors(Map<String, Tensor> tensors, Set<String> parameterNames, Map<String, String> metadata) {}
