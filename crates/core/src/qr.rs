//! QR codes printed on a letter (a TTE letter links to its signed original): decoded from
//! the images embedded in the PDF, each link listed with its host and whether the host is
//! a government one (`go.id`). Part of the bounded letter check: a limited number of images
//! of limited size, large scans reduced before the search.

use serde::{Deserialize, Serialize};

/// Images looked at in one file.
const MAX_IMAGES: usize = 16;
/// Pixels of one image decoded at most (a 300 dpi A4 scan is ~8.7 million).
const MAX_PIXELS: u64 = 12_000_000;
/// The longer side an image is reduced to before the QR search.
const SEARCH_SIDE: u32 = 1400;
/// Links kept per file.
const MAX_LINKS: usize = 10;

/// A link found in a QR code on the letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QrLink {
    pub url: String,
    /// The host, lower case; empty when the code holds no web address.
    pub host: String,
    /// The host is `go.id` or under it: an Indonesian government site.
    pub official: bool,
}

impl QrLink {
    pub fn from_text(text: &str) -> QrLink {
        let url: String = text.trim().chars().take(500).collect();
        let host = host_of(&url).unwrap_or_default();
        let official = host == "go.id" || host.ends_with(".go.id");
        QrLink { url, host, official }
    }
}

/// The host of an `http(s)://` address, lower case, without port or user.
fn host_of(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.trim_end_matches('.').to_owned())
}

/// [`links`] of a file not parsed yet (the fuzz target, tools).
pub fn links_of(bytes: &[u8]) -> Vec<QrLink> {
    lopdf::Document::load_mem(bytes).map(|doc| links(&doc)).unwrap_or_default()
}

/// Every QR code found on the document's images, in object order, without repeats.
pub fn links(doc: &lopdf::Document) -> Vec<QrLink> {
    let mut out: Vec<QrLink> = Vec::new();
    let images = doc.objects.values().filter_map(|o| match o {
        lopdf::Object::Stream(s) if matches!(s.dict.get(b"Subtype"), Ok(lopdf::Object::Name(n)) if n == b"Image") => Some(s),
        _ => None,
    });
    for stream in images.take(MAX_IMAGES) {
        let Some(gray) = grey(doc, stream) else { continue };
        for text in decode(&gray) {
            let link = QrLink::from_text(&text);
            if out.len() < MAX_LINKS && !out.contains(&link) {
                out.push(link);
            }
        }
    }
    out
}

/// A greyscale picture, one byte per pixel.
struct Grey {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

fn number(doc: &lopdf::Document, dict: &lopdf::Dictionary, key: &[u8]) -> Option<i64> {
    match dict.get(key).ok()? {
        lopdf::Object::Reference(id) => doc.get_object(*id).ok()?.as_i64().ok(),
        other => other.as_i64().ok(),
    }
}

/// The image as greyscale, for what this check can read: Flate (with or without a PNG
/// predictor) or DCT (JPEG) data, in gray, RGB or CMYK, 1 or 8 bits per component.
fn grey(doc: &lopdf::Document, stream: &lopdf::Stream) -> Option<Grey> {
    let dict = &stream.dict;
    let width = u32::try_from(number(doc, dict, b"Width")?).ok()?;
    let height = u32::try_from(number(doc, dict, b"Height")?).ok()?;
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return None;
    }
    let filter = match dict.get(b"Filter").ok() {
        Some(lopdf::Object::Name(n)) => Some(n.clone()),
        Some(lopdf::Object::Array(a)) if a.len() == 1 => a[0].as_name().ok().map(<[u8]>::to_vec),
        None => None,
        _ => return None,
    };
    if filter.as_deref() == Some(b"DCTDecode") {
        let mut decoder = jpeg_decoder::Decoder::new(stream.content.as_slice());
        decoder.read_info().ok()?;
        let info = decoder.info()?;
        if u64::from(info.width) * u64::from(info.height) > MAX_PIXELS {
            return None;
        }
        let data = decoder.decode().ok()?;
        let components = match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 => 1,
            jpeg_decoder::PixelFormat::RGB24 => 3,
            jpeg_decoder::PixelFormat::CMYK32 => 4,
            jpeg_decoder::PixelFormat::L16 => return None,
        };
        return to_grey(u32::from(info.width), u32::from(info.height), &data, components, 8);
    }
    if !matches!(filter.as_deref(), None | Some(b"FlateDecode")) {
        return None;
    }
    let limit = usize::try_from(u64::from(width) * u64::from(height) * 4 + 4096).ok()?;
    let data = stream.decompressed_content_with_limit(limit).ok()?;
    let bits = number(doc, dict, b"BitsPerComponent").unwrap_or(8);
    let components = match dict.get(b"ColorSpace").ok()? {
        lopdf::Object::Name(n) if n == b"DeviceGray" || n == b"G" => 1,
        lopdf::Object::Name(n) if n == b"DeviceRGB" || n == b"RGB" => 3,
        lopdf::Object::Name(n) if n == b"DeviceCMYK" || n == b"CMYK" => 4,
        lopdf::Object::Array(a) => match a.first().and_then(|o| o.as_name().ok()) {
            Some(b"ICCBased") => {
                let id = a.get(1)?.as_reference().ok()?;
                match number(doc, &doc.get_object(id).ok()?.as_stream().ok()?.dict, b"N")? {
                    n @ (1 | 3 | 4) => n as usize,
                    _ => return None,
                }
            }
            Some(b"Indexed") => return indexed(doc, a, width, height, &data, bits),
            _ => return None,
        },
        _ => return None,
    };
    to_grey(width, height, &data, components, bits)
}

/// Pixels of `components` × `bits` each (rows padded to a byte) to one grey byte each.
fn to_grey(width: u32, height: u32, data: &[u8], components: usize, bits: i64) -> Option<Grey> {
    let (w, h) = (width as usize, height as usize);
    let mut pixels = Vec::with_capacity(w * h);
    match bits {
        8 => {
            let row = w * components;
            if data.len() < row * h {
                return None;
            }
            for y in 0..h {
                for x in 0..w {
                    let p = &data[y * row + x * components..][..components];
                    pixels.push(match components {
                        1 => p[0],
                        3 => ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8,
                        _ => 255 - p[3].max(((u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 3) as u8),
                    });
                }
            }
        }
        1 if components == 1 => {
            let row = w.div_ceil(8);
            if data.len() < row * h {
                return None;
            }
            for y in 0..h {
                for x in 0..w {
                    let bit = data[y * row + x / 8] >> (7 - x % 8) & 1;
                    pixels.push(if bit == 1 { 255 } else { 0 });
                }
            }
        }
        _ => return None,
    }
    Some(Grey { width, height, pixels })
}

/// An `/Indexed` image: each index looked up in the palette, then to grey.
fn indexed(doc: &lopdf::Document, space: &[lopdf::Object], width: u32, height: u32, data: &[u8], bits: i64) -> Option<Grey> {
    let base = match space.get(1)? {
        lopdf::Object::Name(n) if n == b"DeviceGray" => 1,
        lopdf::Object::Name(n) if n == b"DeviceRGB" => 3,
        _ => return None,
    };
    let palette: Vec<u8> = match space.get(3)? {
        lopdf::Object::String(bytes, _) => bytes.clone(),
        lopdf::Object::Reference(id) => doc.get_object(*id).ok()?.as_stream().ok()?.decompressed_content_with_limit(256 * 4).ok()?,
        _ => return None,
    };
    let (w, h) = (width as usize, height as usize);
    let per_byte = match bits {
        8 => 1,
        4 => 2,
        2 => 4,
        1 => 8,
        _ => return None,
    };
    let row = w.div_ceil(per_byte);
    if data.len() < row * h {
        return None;
    }
    let mut rgb = Vec::with_capacity(w * h * base);
    for y in 0..h {
        for x in 0..w {
            let byte = data[y * row + x / per_byte];
            let shift = (per_byte - 1 - x % per_byte) * bits as usize;
            let index = usize::from((byte >> shift) & ((1u16 << bits) - 1) as u8);
            let entry = palette.get(index * base..index * base + base)?;
            rgb.extend_from_slice(entry);
        }
    }
    to_grey(width, height, &rgb, base, 8)
}

/// The texts of the QR codes in a picture, after reducing a large one.
fn decode(image: &Grey) -> Vec<String> {
    let step = image.width.max(image.height).div_ceil(SEARCH_SIDE).max(1);
    let (w, h) = (image.width / step, image.height / step);
    if w < 21 || h < 21 {
        return Vec::new();
    }
    let at = |x: usize, y: usize| -> u8 {
        if step == 1 {
            return image.pixels[y * image.width as usize + x];
        }
        // The darkest pixel of each block keeps thin modules of a reduced scan.
        let (x0, y0) = (x * step as usize, y * step as usize);
        let mut darkest = 255u8;
        for yy in y0..y0 + step as usize {
            for xx in x0..x0 + step as usize {
                darkest = darkest.min(image.pixels[yy * image.width as usize + xx]);
            }
        }
        darkest
    };
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, at);
    prepared.detect_grids().into_iter().take(4).filter_map(|g| g.decode().ok().map(|(_, text)| text)).collect()
}
