//! A scanned letter's first page as the JPEG it is. Most letters are scans: a page that is
//! one JPEG drawn over the whole page and nothing else. The viewer shows such a page from
//! that JPEG decoded at the pane's size ([`picture`], in the app's shell), several times
//! faster than pdf.js decodes the whole scan in JavaScript, while pdf.js still reads the
//! document. The letter check (in its sandboxed child) finds where the JPEG's bytes lie in
//! the file; nothing in the app parses the PDF for it. Only a page whose picture would look
//! the same either way qualifies: no rotation, no crop, the image exactly over the page,
//! grey or RGB (or an ICC profile of either), no mask, no decode array, no EXIF orientation
//! (pdf.js ignores it, a decoder that honours it would turn the page).

use serde::{Deserialize, Serialize};

/// A first page that is one JPEG over the whole page: its bytes are
/// `letter[start .. start + length]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PageImage {
    /// Offset of the JPEG's first byte in the letter's file.
    pub start: u32,
    /// The JPEG's length in bytes.
    pub length: u32,
    /// The page's width and height in points (1/72 inch), rounded.
    pub page_width: u32,
    pub page_height: u32,
}

/// A scan's page made small for the screen: `width` × `height` pixels, RGBA, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// The most pixels a scan's picture is decoded from: an A3 page at 600 dpi.
const MAX_PIXELS: usize = 70_000_000;

/// A page's JPEG (the bytes a [`PageImage`] points at) decoded for a pane `width` pixels
/// wide: at the smallest of the JPEG's own scales (1/8, 1/4, 1/2 or whole, chosen while
/// its DCT is undone, so most of the work of a full decode is never done) that is at
/// least that wide, or whole if the JPEG is narrower. None when it is not a grey or RGB
/// JPEG this decoder reads, or would be larger than [`MAX_PIXELS`].
pub fn picture(jpeg: &[u8], width: u32) -> Option<Picture> {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    decoder.set_max_decoding_buffer_size(MAX_PIXELS * 3);
    decoder.read_info().ok()?;
    let info = decoder.info()?;
    let (full_width, full_height) = (u32::from(info.width), u32::from(info.height));
    if full_width == 0 || full_height == 0 || (full_width as usize) * (full_height as usize) > MAX_PIXELS {
        return None;
    }
    // The decoder picks the smallest scale that is wide enough or high enough: asking for
    // any height leaves the choice to the width.
    let wanted = width.clamp(1, full_width);
    let (w, h) = decoder.scale(u16::try_from(wanted).ok()?, u16::MAX).ok()?;
    let pixels = decoder.decode().ok()?;
    let (w, h) = (u32::from(w), u32::from(h));
    let rgba: Vec<u8> = match decoder.info()?.pixel_format {
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        jpeg_decoder::PixelFormat::RGB24 => pixels.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        _ => return None,
    };
    (rgba.len() == (w as usize) * (h as usize) * 4).then_some(Picture { width: w, height: h, rgba })
}

/// Content streams longer than this are not a single image's placement.
const MAX_CONTENT: usize = 4096;
/// How far a placement may be off the page box, in points.
const TOLERANCE: f32 = 0.5;

/// The first page of `doc` (read from `bytes`) as a [`PageImage`], when it is one.
pub fn first_page_image(bytes: &[u8], doc: &lopdf::Document) -> Option<PageImage> {
    // Encrypted streams are not the JPEG's bytes as they stand in the file.
    if doc.was_encrypted() || doc.is_encrypted() {
        return None;
    }
    let page_id = *doc.get_pages().get(&1)?;
    let page = doc.get_dictionary(page_id).ok()?;
    let media = rect(doc, inherited(doc, page, b"MediaBox")?)?;
    if let Some(crop) = inherited(doc, page, b"CropBox")
        && rect(doc, crop)?.iter().zip(media.iter()).any(|(c, m)| (c - m).abs() > TOLERANCE)
    {
        return None;
    }
    if let Some(rotate) = inherited(doc, page, b"Rotate")
        && resolve(doc, rotate).as_i64().ok()?.rem_euclid(360) != 0
    {
        return None;
    }
    let (x0, y0, x1, y1) = (media[0].min(media[2]), media[1].min(media[3]), media[0].max(media[2]), media[1].max(media[3]));
    let (width, height) = (x1 - x0, y1 - y0);
    if width < 1.0 || height < 1.0 {
        return None;
    }

    // The content: `q`? `w 0 0 h x y cm` `/Name Do` `Q`?, nothing else.
    let content = doc.get_page_content_with_limit(page_id, MAX_CONTENT).ok()?;
    let operations = lopdf::content::Content::decode(&content).ok()?.operations;
    let drawn: Vec<&lopdf::content::Operation> = operations.iter().filter(|op| op.operator != "q" && op.operator != "Q").collect();
    let [place, draw] = drawn.as_slice() else { return None };
    if place.operator != "cm" || draw.operator != "Do" || place.operands.len() != 6 || draw.operands.len() != 1 {
        return None;
    }
    let m: Vec<f32> = place.operands.iter().map(|o| o.as_float().ok()).collect::<Option<_>>()?;
    let expected = [width, 0.0, 0.0, height, x0, y0];
    if m.iter().zip(expected.iter()).any(|(a, b)| (a - b).abs() > TOLERANCE) {
        return None;
    }
    let name = draw.operands[0].as_name().ok()?;

    // The image it draws.
    let (direct, referenced) = doc.get_page_resources(page_id).ok()?;
    let resources = direct.or_else(|| referenced.first().and_then(|id| doc.get_dictionary(*id).ok()))?;
    let xobjects = resolve(doc, resources.get(b"XObject").ok()?).as_dict().ok()?;
    let id = xobjects.get(name).ok()?.as_reference().ok()?;
    let stream = doc.get_object(id).ok()?.as_stream().ok()?;
    let dict = &stream.dict;
    let is_name = |key: &[u8], value: &[u8]| matches!(dict.get(key).map(|o| resolve(doc, o)), Ok(lopdf::Object::Name(n)) if n == value);
    let dct = is_name(b"Filter", b"DCTDecode")
        || matches!(dict.get(b"Filter").map(|o| resolve(doc, o)), Ok(lopdf::Object::Array(a)) if a.len() == 1 && matches!(&a[0], lopdf::Object::Name(n) if n == b"DCTDecode"));
    if !is_name(b"Subtype", b"Image") || !dct {
        return None;
    }
    let components = colour_components(doc, dict.get(b"ColorSpace").ok()?)?;
    let plain = [&b"SMask"[..], b"Mask", b"Decode", b"ImageMask"].iter().all(|key| !dict.has(key));
    if !plain || resolve(doc, dict.get(b"BitsPerComponent").ok()?).as_i64().ok()? != 8 {
        return None;
    }

    // Its bytes, where they stand in the file, and a JPEG a browser shows as pdf.js would.
    let start = position(bytes, doc, id, &stream.content)?;
    let jpeg = &bytes[start..start + stream.content.len()];
    if !plain_jpeg(jpeg, components) {
        return None;
    }
    Some(PageImage {
        start: u32::try_from(start).ok()?,
        length: u32::try_from(jpeg.len()).ok()?,
        page_width: width.round() as u32,
        page_height: height.round() as u32,
    })
}

/// Where a stream's bytes begin in the file. lopdf does not keep it once loaded: they are
/// looked for just after the object's offset in the cross-reference table, and must be the
/// stream's bytes exactly.
fn position(bytes: &[u8], doc: &lopdf::Document, id: lopdf::ObjectId, content: &[u8]) -> Option<usize> {
    let lopdf::xref::XrefEntry::Normal { offset, .. } = doc.reference_table.entries.get(&id.0)? else { return None };
    let from = usize::try_from(*offset).ok()?;
    // The object's header and dictionary come first; a few kilobytes hold any image's.
    let head = bytes.get(from..)?;
    let head = &head[..head.len().min(MAX_CONTENT)];
    let probe = content.get(..content.len().min(64))?;
    if probe.is_empty() {
        return None;
    }
    let at = from + head.windows(probe.len()).position(|w| w == probe)?;
    (bytes.get(at..at.checked_add(content.len())?)? == content).then_some(at)
}

/// Grey or RGB, as a device space or an ICC profile of 1 or 3 components (scanners embed
/// one): the colours a browser shows from the JPEG's own data.
fn colour_components(doc: &lopdf::Document, space: &lopdf::Object) -> Option<u8> {
    match resolve(doc, space) {
        lopdf::Object::Name(n) if n == b"DeviceGray" => Some(1),
        lopdf::Object::Name(n) if n == b"DeviceRGB" => Some(3),
        lopdf::Object::Array(a) if a.len() == 2 && matches!(&a[0], lopdf::Object::Name(n) if n == b"ICCBased") => {
            let profile = resolve(doc, &a[1]).as_stream().ok()?;
            match resolve(doc, profile.dict.get(b"N").ok()?).as_i64().ok()? {
                1 => Some(1),
                3 => Some(3),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A page attribute, from the page or the nearest ancestor that has it.
fn inherited<'a>(doc: &'a lopdf::Document, page: &'a lopdf::Dictionary, key: &[u8]) -> Option<&'a lopdf::Object> {
    let mut node = page;
    for _ in 0..32 {
        if let Ok(value) = node.get(key) {
            return Some(value);
        }
        node = doc.get_dictionary(node.get(b"Parent").ok()?.as_reference().ok()?).ok()?;
    }
    None
}

fn resolve<'a>(doc: &'a lopdf::Document, object: &'a lopdf::Object) -> &'a lopdf::Object {
    doc.dereference(object).map(|(_, o)| o).unwrap_or(object)
}

fn rect(doc: &lopdf::Document, object: &lopdf::Object) -> Option<[f32; 4]> {
    let items = resolve(doc, object).as_array().ok()?;
    let values: Vec<f32> = items.iter().map(|o| resolve(doc, o).as_float().ok()).collect::<Option<_>>()?;
    values.try_into().ok()
}

/// A baseline or progressive JPEG of `components` colour components, 8 bits, without an
/// EXIF block (whose orientation a browser would apply and pdf.js does not).
fn plain_jpeg(jpeg: &[u8], components: u8) -> bool {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    if decoder.read_info().is_err() {
        return false;
    }
    let Some(info) = decoder.info() else { return false };
    let format = match components {
        1 => jpeg_decoder::PixelFormat::L8,
        _ => jpeg_decoder::PixelFormat::RGB24,
    };
    info.pixel_format == format && !has_exif(jpeg)
}

/// Whether an APP1 `Exif` segment comes before the image data.
fn has_exif(jpeg: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        // Start of scan: the headers are over.
        if marker == 0xDA {
            return false;
        }
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if marker == 0xE1 && jpeg.get(at + 4..at + 10) == Some(b"Exif\0\0") {
            return true;
        }
        at += 2 + length;
    }
    false
}
