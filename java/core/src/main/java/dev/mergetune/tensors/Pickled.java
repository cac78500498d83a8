package dev.mergetune.tensors;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The values {@link PickleMachine} builds: plain data (Long, Double, Boolean, String, byte[], {@link #NONE}) and the
 * containers below. Containers compare by identity, so no hash or equality ever walks a hostile nesting; each
 * records the nesting depth it had when built, which the machine bounds.
 */
final class Pickled {
  private Pickled() {}

  /** Python's None. */
  static final Object NONE = new Object() {
    @Override
    public String toString() {
      return "None";
    }
  };

  /** A container value with the nesting depth it had when last changed. */
  abstract static class Node {
    int depth = 1;
  }

  static final class PList extends Node {
    final List<Object> items = new ArrayList<>();
  }

  static final class Tuple extends Node {
    final List<Object> items;

    Tuple(List<Object> items) {
      this.items = List.copyOf(items);
    }
  }

  /** A dict (or OrderedDict) whose keys are plain data, in insertion order. */
  static final class PDict extends Node {
    final Map<Object, Object> map = new LinkedHashMap<>();
  }

  /** An object of a TorchScript class ({@code __torch__.…}), never constructed: its class name and pickled state. */
  static final class PObject extends Node {
    final String className;
    Object state = NONE;

    PObject(String className) {
      this.className = className;
    }
  }

  /** A GLOBAL that passed the allow-list. */
  record Global(String module, String name) {
    String qualified() {
      return module + "." + name;
    }
  }

  /** A storage named by a persistent id: its element type, its record key in the zip, its element count. */
  record Storage(DType dtype, String key, long numel) {}

  /** A tensor view (from {@code _rebuild_tensor_v2}) over a storage, not yet checked against its bytes. */
  static final class TensorRef extends Node {
    final Storage storage;
    final long offset;
    final long[] size;
    final long[] stride;

    TensorRef(Storage storage, long offset, long[] size, long[] stride) {
      this.storage = storage;
      this.offset = offset;
      this.size = size;
      this.stride = stride;
    }
  }

  /** The kind of a value in words, as LibTorch's IValue tags name them (for messages). */
  static String kind(Object v) {
    if (v == NONE) return "None";
    if (v instanceof Long) return "Int";
    if (v instanceof Double) return "Double";
    if (v instanceof Boolean) return "Bool";
    if (v instanceof String) return "String";
    if (v instanceof byte[]) return "Bytes";
    if (v instanceof PList) return "GenericList";
    if (v instanceof Tuple) return "Tuple";
    if (v instanceof PDict) return "GenericDict";
    if (v instanceof TensorRef) return "Tensor";
    if (v instanceof PObject o) return "Object " + o.className;
    if (v instanceof Global g) return "global " + g.qualified();
    if (v instanceof Storage) return "Storage";
    return v.getClass().getSimpleName();
  }

  static int depth(Object v) {
    return v instanceof Node n ? n.depth : 0;
  }
}
