//! `report.html`: one self-contained page per run that a person can read at a glance.
//!
//! A [`Report`] is a list of blocks (headings, text, key–value lists, tables, code, figures).
//! Figures are embedded as `data:` URIs (base64 PNG or GIF), so the file can be mailed, archived or
//! opened from a CI artefact without its directory. The page opens with the list of figures it
//! promises; each is an `<img>` whose `data-figure` attribute names it, which the tests check.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::error::{Result, ShoalError};

/// A piece of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading.
    Heading(String),
    /// A paragraph of text.
    Text(String),
    /// Two-column facts: `key: value`.
    Facts(Vec<(String, String)>),
    /// A table with a header row.
    Table {
        /// Column titles.
        header: Vec<String>,
        /// Rows of cells.
        rows: Vec<Vec<String>>,
    },
    /// Preformatted text (a config file).
    Code(String),
    /// An image file (PNG or GIF) embedded in the page.
    Figure {
        /// Stable name (`learning_curve`, `episode_frames`, …).
        id: String,
        /// Caption under the image.
        caption: String,
        /// The image file to embed.
        path: PathBuf,
    },
}

/// An HTML report under construction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    title: String,
    blocks: Vec<Block>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Report {
    /// An empty report titled `title`.
    pub fn new(title: impl Into<String>) -> Report {
        Report { title: title.into(), blocks: Vec::new() }
    }

    /// Appends a block.
    pub fn push(&mut self, block: Block) -> &mut Report {
        self.blocks.push(block);
        self
    }

    /// Appends a figure.
    pub fn figure(&mut self, id: &str, caption: impl Into<String>, path: impl Into<PathBuf>) -> &mut Report {
        self.push(Block::Figure { id: id.into(), caption: caption.into(), path: path.into() })
    }

    /// Names of the figures, in order.
    pub fn figure_ids(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Figure { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Renders the page, reading and embedding every figure.
    pub fn to_html(&self) -> Result<String> {
        let mut html = String::new();
        let title = escape(&self.title);
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>\
             body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}\
             table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}\
             th{{background:#f3f3f3}}pre{{background:#f7f7f7;padding:1em;overflow:auto}}\
             figure{{margin:1.5em 0}}img{{max-width:100%;border:1px solid #ddd}}figcaption{{color:#555}}\
             dl{{display:grid;grid-template-columns:max-content auto;gap:2px 16px}}dt{{font-weight:600}}dd{{margin:0}}\
             </style></head><body>\n<h1>{title}</h1>\n"
        );
        let ids = self.figure_ids();
        html += "<p>Figures: <span id=\"figures\">";
        html += &ids.iter().map(|id| format!("<a href=\"#{id}\">{id}</a>")).collect::<Vec<_>>().join(", ");
        html += "</span></p>\n";
        for block in &self.blocks {
            match block {
                Block::Heading(text) => {
                    let _ = writeln!(html, "<h2>{}</h2>", escape(text));
                }
                Block::Text(text) => {
                    let _ = writeln!(html, "<p>{}</p>", escape(text));
                }
                Block::Facts(facts) => {
                    html += "<dl>";
                    for (k, v) in facts {
                        let _ = write!(html, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
                    }
                    html += "</dl>\n";
                }
                Block::Table { header, rows } => {
                    html += "<table><tr>";
                    for h in header {
                        let _ = write!(html, "<th>{}</th>", escape(h));
                    }
                    html += "</tr>";
                    for row in rows {
                        html += "<tr>";
                        for cell in row {
                            let _ = write!(html, "<td>{}</td>", escape(cell));
                        }
                        html += "</tr>";
                    }
                    html += "</table>\n";
                }
                Block::Code(text) => {
                    let _ = writeln!(html, "<pre>{}</pre>", escape(text));
                }
                Block::Figure { id, caption, path } => {
                    let _ = writeln!(
                        html,
                        "<figure id=\"{id}\"><img data-figure=\"{id}\" alt=\"{alt}\" src=\"{src}\"><figcaption>{alt}</figcaption></figure>",
                        id = escape(id),
                        alt = escape(caption),
                        src = data_uri(path)?
                    );
                }
            }
        }
        html += "</body></html>\n";
        Ok(html)
    }

    /// Writes the page to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::io::write_atomic(path, self.to_html()?.as_bytes())
    }
}

/// `data:image/…;base64,…` for a PNG or GIF file.
fn data_uri(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| ShoalError::io(path, e))?;
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(b"GIF89a") || bytes.starts_with(b"GIF87a") {
        "image/gif"
    } else {
        return Err(ShoalError::BadInput {
            path: path.display().to_string(),
            line: 0,
            message: "a report figure must be a PNG or GIF file".into(),
        });
    };
    Ok(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}
