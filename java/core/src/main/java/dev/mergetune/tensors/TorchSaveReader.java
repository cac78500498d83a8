package dev.mergetune.tensors;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.GenericDict;
import org.bytedeco.pytorch.GenericDictEntryRef;
import org.bytedeco.pytorch.GenericDictIterator;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The tensors of a {@code torch.save} file (zip format), unpickled by LibTorch: a dict from names to tensors, kept
 * in the file's order with the names as they are, or such a dict under the key {@code "state_dict"} or
 * {@code "model"} of an outer dict (how training scripts commonly wrap one; the key used is recorded in the
 * metadata as {@code mergetune.unwrapped_key}). Anything else is refused with a description of what the file holds.
 * Must run inside a PointerScope: the file's bytes and every temporary are freed when it closes.
 */
final class TorchSaveReader {
  private static final List<String> WRAPPER_KEYS = List.of("state_dict", "model");
  private static final int LISTED = 8;

  private TorchSaveReader() {}

  static TorchTensors read(Path path) {
    IValue root = torch.pickle_load(NativeFileBytes.read(path));
    if (!root.isGenericDict()) {
      throw new CheckpointFormatException(path, "holds " + describe(root) + ", not a dict of tensor name → tensor");
    }
    GenericDict dict = root.toGenericDict();
    String unwrapped = null;
    if (!isStateDict(dict)) {
      for (String key : WRAPPER_KEYS) {
        IValue inner = stringKeyed(dict, key);
        if (inner != null && inner.isGenericDict()) {
          dict = inner.toGenericDict();
          unwrapped = key;
          break;
        }
      }
      if (unwrapped == null) {
        throw new CheckpointFormatException(path, "holds a dict that is not tensor name → tensor and has no \"state_dict\""
            + " or \"model\" dict inside; its entries: " + entries(dict));
      }
      if (!isStateDict(dict)) {
        throw new CheckpointFormatException(path, "the dict under \"" + unwrapped + "\" is not tensor name → tensor; its "
            + "entries: " + entries(dict));
      }
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (GenericDictIterator it = dict.begin(); it.notEquals(dict.end()); it = it.increment()) {
      GenericDictEntryRef e = it.access();
      tensors.put(e.key().toStringRef().getString(), e.value().toTensor());
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("mergetune.source_format", TorchArchives.Kind.TORCH_SAVE.description());
    if (unwrapped != null) metadata.put("mergetune.unwrapped_key", unwrapped);
    return new TorchTensors(tensors, null, metadata);
  }

  /** True when every key is a string and every value a tensor (an empty dict included). */
  private static boolean isStateDict(GenericDict dict) {
    for (GenericDictIterator it = dict.begin(); it.notEquals(dict.end()); it = it.increment()) {
      GenericDictEntryRef e = it.access();
      if (!e.key().isString() || !e.value().isTensor()) return false;
    }
    return true;
  }

  private static IValue stringKeyed(GenericDict dict, String key) {
    for (GenericDictIterator it = dict.begin(); it.notEquals(dict.end()); it = it.increment()) {
      GenericDictEntryRef e = it.access();
      if (e.key().isString() && e.key().toStringRef().getString().equals(key)) return e.value();
    }
    return null;
  }

  /** The first few entries as {@code 'key' (ValueKind)}, for an error message. */
  private static String entries(GenericDict dict) {
    List<String> shown = new ArrayList<>();
    for (GenericDictIterator it = dict.begin(); it.notEquals(dict.end()) && shown.size() < LISTED; it = it.increment()) {
      GenericDictEntryRef e = it.access();
      IValue k = e.key();
      String key = k.isString() ? "'" + k.toStringRef().getString() + "'" : "a " + kind(k) + " key";
      shown.add(key + " (" + kind(e.value()) + ")");
    }
    String list = String.join(", ", shown);
    return dict.size() > LISTED ? list + ", ... (" + dict.size() + " entries)" : list.isEmpty() ? "none" : list;
  }

  private static String describe(IValue v) {
    return v.isNone() ? "None" : "a " + kind(v);
  }

  private static String kind(IValue v) {
    return v.tagKind().getString();
  }
}
