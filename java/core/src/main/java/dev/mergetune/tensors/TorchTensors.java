package dev.mergetune.tensors;

import dev.mergetune.tensors.Pickled.TensorRef;
import java.util.Map;
import java.util.Set;

/**
 * What a reader took out of a PyTorch file's pickle: its tensor views by name, in state-dict order (not yet checked
 * against their storages); the names of the trainable parameters where the format records them (null where it does
 * not); metadata describing where the tensors came from; and the zip-record prefix of the storages.
 */
record TorchTensors(Map<String, TensorRef> tensors, Set<String> parameterNames, Map<String, String> metadata,
    String storagePrefix) {}
