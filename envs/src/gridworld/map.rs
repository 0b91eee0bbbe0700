//! Parsing a GridWorld's text map.

use crate::{Error, Result};

/// What one cell of a GridWorld map is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Cell {
    /// `.` or `F`: free (FrozenLake's frozen ice).
    Free,
    /// `S`: a start cell; otherwise free.
    Start,
    /// `G`: the goal; entering it ends the episode with the goal reward.
    Goal,
    /// `H`: a hole; entering it ends the episode with the hole reward.
    Hole,
    /// `C`: a cliff; entering it gives the cliff reward and sends the agent back to the start.
    Cliff,
    /// `#`: a wall; it cannot be entered.
    Wall,
}

impl Cell {
    /// The cell a map character stands for, if any.
    pub fn from_char(c: char) -> Option<Cell> {
        Some(match c {
            '.' | 'F' => Cell::Free,
            'S' => Cell::Start,
            'G' => Cell::Goal,
            'H' => Cell::Hole,
            'C' => Cell::Cliff,
            '#' => Cell::Wall,
            _ => return None,
        })
    }

    /// Whether entering this cell ends the episode (goal and hole).
    #[inline]
    pub fn is_terminal(self) -> bool {
        matches!(self, Cell::Goal | Cell::Hole)
    }
}

/// The characters a map may contain, for error messages.
const ALLOWED: &str = "S (start), G (goal), H (hole), C (cliff), # (wall), . or F (free)";

/// A parsed map: cells in row-major order, and the characters as written (for rendering).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Grid {
    pub rows: usize,
    pub cols: usize,
    pub cells: Vec<Cell>,
    pub chars: Vec<char>,
}

fn map_error(line: usize, column: usize, message: String) -> Error {
    Error::Map {
        line,
        column,
        message,
    }
}

/// Parses a map: one text line per row, all rows the same width.
///
/// Blank lines before the first row and after the last are ignored, as are spaces and tabs
/// around each row (so a map can be indented in a config file); line and column numbers in
/// errors count in the text as given, from 1.
pub(crate) fn parse(text: &str) -> Result<Grid> {
    // (line number, column of the row's first character, the row's characters)
    let mut rows: Vec<(usize, usize, Vec<char>)> = Vec::new();
    let mut blank_after_row: Option<usize> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let body = raw.trim_start_matches([' ', '\t']);
        let indent = raw.chars().count() - body.chars().count();
        let body = body.trim_end_matches([' ', '\t']);
        if body.is_empty() {
            if !rows.is_empty() && blank_after_row.is_none() {
                blank_after_row = Some(line);
            }
            continue;
        }
        if let Some(blank) = blank_after_row {
            return Err(map_error(
                blank,
                1,
                "empty row inside the map; every row needs at least one cell".into(),
            ));
        }
        rows.push((line, indent + 1, body.chars().collect()));
    }
    let Some((first_line, first_col, first)) = rows.first() else {
        return Err(map_error(1, 1, "the map is empty".into()));
    };
    let cols = first.len();
    let (first_line, first_col) = (*first_line, *first_col);

    let mut cells = Vec::with_capacity(rows.len() * cols);
    let mut chars = Vec::with_capacity(rows.len() * cols);
    for (line, start_col, row) in &rows {
        for (j, &c) in row.iter().enumerate() {
            let cell = Cell::from_char(c).ok_or_else(|| {
                map_error(
                    *line,
                    start_col + j,
                    format!("unknown character {c:?}; allowed: {ALLOWED}"),
                )
            })?;
            cells.push(cell);
            chars.push(c);
        }
        if row.len() != cols {
            return Err(map_error(
                *line,
                start_col + row.len().min(cols),
                format!(
                    "row has {} cells but the first row (line {first_line}) has {cols}; \
                     every row must have the same width",
                    row.len()
                ),
            ));
        }
    }
    if !cells.contains(&Cell::Start) {
        return Err(map_error(
            first_line,
            first_col,
            "no start cell: mark at least one cell `S`".into(),
        ));
    }
    Ok(Grid {
        rows: rows.len(),
        cols,
        cells,
        chars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_at(text: &str) -> (usize, usize, String) {
        match parse(text) {
            Err(Error::Map {
                line,
                column,
                message,
            }) => (line, column, message),
            other => panic!("expected a map error, got {other:?}"),
        }
    }

    #[test]
    fn parses_cells_in_row_major_order() {
        let g = parse("S.#\nHCG").unwrap();
        assert_eq!((g.rows, g.cols), (2, 3));
        use Cell::*;
        assert_eq!(g.cells, [Start, Free, Wall, Hole, Cliff, Goal]);
        assert_eq!(g.chars, ['S', '.', '#', 'H', 'C', 'G']);
    }

    #[test]
    fn ignores_surrounding_blank_lines_indentation_and_crlf() {
        let g = parse("\n   SF\r\n\tFG  \n\n").unwrap();
        assert_eq!((g.rows, g.cols), (2, 2));
        assert_eq!(g.cells[3], Cell::Goal);
    }

    #[test]
    fn unknown_character_names_it_its_place_and_the_allowed_ones() {
        let (line, col, msg) = error_at("SFF\nFxF");
        assert_eq!((line, col), (2, 2));
        assert!(msg.contains("'x'"), "{msg}");
        assert!(
            msg.contains("# (wall)") && msg.contains(". or F (free)"),
            "{msg}"
        );
        // Columns count in the text as written, indentation included.
        let (line, col, _) = error_at("  SFF\n  F?F");
        assert_eq!((line, col), (2, 4));
    }

    #[test]
    fn ragged_rows_point_past_the_shorter_row() {
        // Longer: the first extra character.
        let (line, col, msg) = error_at("SFF\nFFFF\nFFF");
        assert_eq!((line, col), (2, 4));
        assert!(msg.contains("4 cells") && msg.contains("has 3"), "{msg}");
        // Shorter: where the missing cell would be.
        let (line, col, _) = error_at("SFF\nFFF\nFF");
        assert_eq!((line, col), (3, 3));
        let (line, col, _) = error_at(" SFF\n FF");
        assert_eq!((line, col), (2, 4));
    }

    #[test]
    fn empty_map_missing_start_and_inner_blank_lines_are_errors() {
        let (line, col, msg) = error_at(" \n\n");
        assert_eq!((line, col), (1, 1));
        assert!(msg.contains("empty"), "{msg}");
        let (line, col, msg) = error_at("\n.F\nFG");
        assert_eq!((line, col), (2, 1));
        assert!(msg.contains("no start cell"), "{msg}");
        let (line, _, msg) = error_at("SF\n\nFG");
        assert_eq!(line, 2);
        assert!(msg.contains("empty row"), "{msg}");
    }
}
