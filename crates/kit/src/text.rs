//! Small text jobs the services and the command share.

/// `text` on one line (runs of whitespace become one space), cut to at most `max` characters
/// with an ellipsis when longer.
pub fn clip(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut cut: String = flat.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_on_one_line() {
        assert_eq!(clip("推进\n  城市更新", 10), "推进 城市更新");
        assert_eq!(clip("一二三四五六", 4), "一二三四…");
        assert_eq!(clip("", 4), "");
    }
}
