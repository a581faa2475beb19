-- Unit-name keys fold full-width parentheses to ASCII ones from now on (区委办（区政府办） and
-- 区委办(区政府办) are one unit). Keys stored before kept the full-width forms: give each of
-- them its folded spelling too, so a lookup by the new key finds the same unit.
INSERT INTO unit_aliases (alias, unit_id)
SELECT translate(alias, '（）', '()'), unit_id
FROM unit_aliases
WHERE alias ~ '[（）]'
ON CONFLICT (alias) DO NOTHING;
