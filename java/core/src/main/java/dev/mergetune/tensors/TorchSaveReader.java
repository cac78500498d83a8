package dev.mergetune.tensors;

import dev.mergetune.tensors.Pickled.PDict;
import dev.mergetune.tensors.Pickled.TensorRef;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors of a {@code torch.save} file (zip format), unpickled by {@link PickleMachine} (never by LibTorch): a
 * dict (or OrderedDict, as {@code torch.save(model.state_dict())} writes) from names to tensors, kept in the file's
 * order with the names as they are, or such a dict under the key {@code "state_dict"} or {@code "model"} of an outer
 * dict (how training scripts commonly wrap one; the key used is recorded in the metadata as
 * {@code mergetune.unwrapped_key}). Anything else is refused with a description of what the file holds.
 */
final class TorchSaveReader {
  static final long MAX_PICKLE_BYTES = 64L << 20;
  private static final List<String> WRAPPER_KEYS = List.of("state_dict", "model");
  private static final int LISTED = 8;

  private TorchSaveReader() {}

  static TorchTensors read(PtZip zip, String archive) {
    var path = zip.path();
    String byteorder = archive + "/byteorder";
    if (zip.has(byteorder) && !new String(zip.readBytes(byteorder, 16), StandardCharsets.US_ASCII).strip().equals("little")) {
      throw new CheckpointFormatException(path, "was saved on a big-endian machine; re-save it on a little-endian one");
    }
    String entry = archive + "/data.pkl";
    Object root = PickleMachine.run(path, entry, zip.readBytes(entry, MAX_PICKLE_BYTES), false);
    if (!(root instanceof PDict dict)) {
      throw new CheckpointFormatException(path, "holds " + describe(root) + ", not a dict of tensor name → tensor");
    }
    String unwrapped = null;
    if (!isStateDict(dict)) {
      for (String key : WRAPPER_KEYS) {
        if (dict.map.get(key) instanceof PDict inner) {
          dict = inner;
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
    Map<String, TensorRef> tensors = new LinkedHashMap<>();
    dict.map.forEach((k, v) -> tensors.put((String) k, (TensorRef) v));
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("mergetune.source_format", TorchArchives.Kind.TORCH_SAVE.description());
    if (unwrapped != null) metadata.put("mergetune.unwrapped_key", unwrapped);
    return new TorchTensors(tensors, null, metadata, archive + "/data/");
  }

  /** True when every key is a string and every value a tensor (an empty dict included). */
  private static boolean isStateDict(PDict dict) {
    for (Map.Entry<Object, Object> e : dict.map.entrySet()) {
      if (!(e.getKey() instanceof String) || !(e.getValue() instanceof TensorRef)) return false;
    }
    return true;
  }

  /** The first few entries as {@code 'key' (Kind)}, for an error message. */
  private static String entries(PDict dict) {
    List<String> shown = new ArrayList<>();
    for (Map.Entry<Object, Object> e : dict.map.entrySet()) {
      if (shown.size() == LISTED) break;
      Object k = e.getKey();
      String key = k instanceof String s ? "'" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "'"
          : "a " + Pickled.kind(k) + " key";
      shown.add(key + " (" + Pickled.kind(e.getValue()) + ")");
    }
    String list = String.join(", ", shown).replace('\n', ' ');
    return dict.map.size() > LISTED ? list + ", ... (" + dict.map.size() + " entries)" : list.isEmpty() ? "none" : list;
  }

  private static String describe(Object v) {
    return v == Pickled.NONE ? "None" : "a " + Pickled.kind(v);
  }
}
