import { formatTable } from './output';

describe(formatTable.name, () => {
  it('aligns columns, numbers to the right, and escapes control characters', () => {
    const table = formatTable(
      [
        { key: 'name', header: 'NAME' },
        { key: 'count', header: 'N' },
        { key: 'note', header: 'NOTE' },
      ],
      [
        { name: 'a', count: 5, note: 'line\nbreak' },
        { name: 'longer', count: 120, note: null },
      ],
    );
    expect(table.split('\n')).toEqual([
      'NAME      N  NOTE',
      '------  ---  -----------',
      'a         5  line\\nbreak',
      'longer  120  -',
    ]);
  });
});
