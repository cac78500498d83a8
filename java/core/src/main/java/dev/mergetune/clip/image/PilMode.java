package dev.mergetune.clip.image;

/**
 * The Pillow image modes a decoded JPEG or PNG can arrive in, as Pillow's plugins assign them. The mode decides how
 * Pillow resizes the image (bicubic, bicubic on premultiplied alpha, or nearest) and how {@code convert("RGB")}
 * turns it into RGB, so {@link PilImage} keeps it.
 */
public enum PilMode {
  /** 8-bit grey (PNG grey of 2, 4 or 8 bits, scaled; greyscale JPEG). */
  L("L", 1),
  /** 8-bit grey with alpha; Pillow resizes it premultiplied ("La") and {@code convert("RGB")} drops the alpha. */
  LA("LA", 2),
  /** 8-bit RGB (PNG RGB of 8 bits, 16-bit PNG RGB through its high bytes; YCbCr or RGB JPEG). */
  RGB("RGB", 3),
  /** 8-bit RGBA (PNG RGBA; 16-bit grey+alpha and RGBA PNGs through their high bytes); resized premultiplied. */
  RGBA("RGBA", 4),
  /** 8-bit CMYK as Pillow keeps 4-component JPEGs (Adobe's inverted convention undone). */
  CMYK("CMYK", 4),
  /** Palette indices with a 256-entry RGB palette; Pillow always resizes it with NEAREST. */
  P("P", 1),
  /** Bilevel (1-bit grey PNG), stored as 0 or 255; Pillow always resizes it with NEAREST. */
  BILEVEL("1", 1),
  /** 16-bit grey (16-bit grey PNG); {@code convert("RGB")} clips values above 255 to 255. */
  I16("I;16", 1);

  private final String pilName;
  private final int bands;

  PilMode(String pilName, int bands) {
    this.pilName = pilName;
    this.bands = bands;
  }

  /** The name Pillow gives this mode ("L", "RGBA", "I;16", ...). */
  public String pilName() {
    return pilName;
  }

  /** Samples per pixel in {@link PilImage#pixels()} (1 for P, whose samples are palette indices). */
  public int bands() {
    return bands;
  }
}
